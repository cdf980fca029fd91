//! A DNS reply, any bytes a server (or anyone spoofing one) sends, read as the engine reads
//! the answer to each kind of question it asks.
#![no_main]
use crowsnest::dns::wire::read_reply;
use hickory_proto::rr::{Name, RecordType};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn name() -> &'static Name {
    static NAME: OnceLock<Name> = OnceLock::new();
    NAME.get_or_init(|| Name::from_ascii("www.example.test.").expect("a valid name"))
}

fuzz_target!(|bytes: &[u8]| {
    for wanted in [RecordType::A, RecordType::AAAA, RecordType::CNAME, RecordType::MX, RecordType::TXT, RecordType::SOA] {
        let _ = read_reply(bytes, name(), wanted);
    }
});
