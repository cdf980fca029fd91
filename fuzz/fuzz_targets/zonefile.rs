//! The zone-file importer: any text, with and without an origin; what it accepts must turn
//! into the config's TOML without panicking.
#![no_main]
use crowsnest::dns::zonefile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    for origin in [Some("example.test"), None] {
        if let Ok(zone) = zonefile::parse(text, origin) {
            let _ = zonefile::to_toml(&zone);
        }
    }
});
