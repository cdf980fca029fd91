//! The JSON bodies the server accepts: an action request (`POST /api/v1/actions`), checked
//! as the server checks it, and a pushed loader report (`POST /api/v1/loaders/{name}/report`).
#![no_main]
use crowsnest::actions::decide::{check_form, RequestForm};
use crowsnest::backlog::PushedReport;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(form) = serde_json::from_slice::<RequestForm>(bytes) {
        let sites = ["web".to_string(), "api".to_string()];
        let _ = check_form(&form, &sites, 1_700_000_000_000);
    }
    if let Ok(report) = serde_json::from_slice::<PushedReport>(bytes) {
        let _ = report.into_report(1_700_000_000_000);
    }
});
