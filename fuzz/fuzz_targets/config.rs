//! The config loader: any text as an estate file. Mistakes must come back as located errors,
//! and reporting them (line, column, the offending key) must not panic either.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Err(errors) = crowsnest::config::parse(std::path::Path::new("fuzz.toml"), text) {
        let _ = crowsnest::config::report(&errors);
    }
});
