//! The Prometheus text reader a loader's /metrics goes through.
#![no_main]
use crowsnest::backlog::exposition;
use crowsnest::config::MetricNames;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = exposition::parse(text);
    let _ = exposition::report(text, &MetricNames::default(), 1_700_000_000_000);
});
