use super::*;

const NOW: i64 = 1_795_717_800_000; // 2026-11-26 18:30 UTC

fn sites() -> Vec<String> {
    vec!["web".into(), "api".into()]
}

fn form() -> RequestForm {
    RequestForm {
        kind: "maintenance_on".into(),
        site: "web".into(),
        reason: "primary datacenter unreachable".into(),
        confirmation: "web".into(),
        message: "Back soon <b>really</b>".into(),
        expected_end: "2026-11-26T20:00".into(),
        idempotency_key: "k1-web".into(),
        csrf: String::new(),
    }
}

#[test]
fn a_good_form_is_valid() {
    let v = check_form(&form(), &sites(), NOW).unwrap();
    assert_eq!(v.kind, ActionKind::MaintenanceOn);
    assert_eq!(v.message.as_deref(), Some("Back soon <b>really</b>"), "kept as typed; escaped where shown");
    assert_eq!(v.expected_end_ms, Some(NOW + 90 * 60_000));
    let off = RequestForm { kind: "maintenance_off".into(), message: String::new(), expected_end: "junk".into(), ..form() };
    assert_eq!(check_form(&off, &sites(), NOW).unwrap().message, None, "off needs no message");
}

#[test]
fn each_bad_field_gets_its_own_error() {
    let long = "x".repeat(501);
    // (change, field, words in the message)
    let table: Vec<(RequestForm, &str, &str)> = vec![
        (RequestForm { reason: "".into(), ..form() }, "reason", "at least 10 characters"),
        (RequestForm { reason: "   short   ".into(), ..form() }, "reason", "at least 10 characters"),
        (RequestForm { reason: long.clone(), ..form() }, "reason", "501 characters"),
        (RequestForm { confirmation: "Web".into(), ..form() }, "confirmation", "type the site's name, web"),
        (RequestForm { confirmation: "".into(), ..form() }, "confirmation", "exactly to confirm"),
        (RequestForm { site: "blog".into(), confirmation: "blog".into(), ..form() }, "site", "unknown site \"blog\""),
        (RequestForm { message: "".into(), ..form() }, "message", "write the message"),
        (RequestForm { message: long, ..form() }, "message", "501 characters; at most 500"),
        (RequestForm { expected_end: "2026-11-26T18:00".into(), ..form() }, "expected_end", "in the past"),
        (RequestForm { expected_end: "soon".into(), ..form() }, "expected_end", "is not a time"),
        (RequestForm { kind: "reboot".into(), ..form() }, "kind", "unknown action kind \"reboot\""),
        (RequestForm { idempotency_key: "".into(), ..form() }, "", "idempotency key"),
    ];
    for (bad, field, words) in table {
        let errors = check_form(&bad, &sites(), NOW).expect_err(field);
        let found = errors.iter().find(|(f, _)| f == field).unwrap_or_else(|| panic!("no {field:?} error in {errors:?}"));
        assert!(found.1.contains(words), "{field}: {:?} lacks {words:?}", found.1);
    }
    // Several mistakes at once are all reported.
    let many = RequestForm { reason: "".into(), confirmation: "".into(), message: "".into(), ..form() };
    assert_eq!(check_form(&many, &sites(), NOW).unwrap_err().len(), 3);
}

#[test]
fn who_may_request_what() {
    use ActionKind::*;
    // (role, kind, two_person, maintenance on now, read-only, expected)
    let table = [
        (Role::Oncall, MaintenanceOn, false, false, false, Ok(Step::Execute)),
        (Role::Admin, MaintenanceOn, false, false, false, Ok(Step::Execute)),
        (Role::Oncall, MaintenanceOn, true, false, false, Ok(Step::AwaitApproval)),
        (Role::Admin, MaintenanceOn, true, false, false, Ok(Step::AwaitApproval)),
        (Role::Oncall, MaintenanceOn, false, true, false, Ok(Step::Execute)),
        (Role::Oncall, MaintenanceOff, false, true, false, Ok(Step::Execute)),
        (Role::Viewer, MaintenanceOn, false, false, false, Err(403)),
        (Role::Oncall, MaintenanceOff, false, false, false, Err(409)),
        (Role::Admin, MaintenanceOn, false, false, true, Err(503)),
    ];
    for (role, kind, two, on, ro, want) in table {
        let got = decide_request(role, kind, two, on, ro).map_err(|r| r.status);
        assert_eq!(got, want, "{role:?} {kind:?} two_person={two} on={on} read_only={ro}");
    }
    assert_eq!(
        decide_request(Role::Viewer, MaintenanceOn, false, false, false).unwrap_err().message,
        "viewers cannot change maintenance; ask an on-call"
    );
}

fn pending(by: &str) -> ActionRequest {
    ActionRequest {
        id: 7,
        kind: ActionKind::MaintenanceOn,
        site: "api".into(),
        message: Some("m".into()),
        expected_end_ms: None,
        reason: "r".into(),
        requested_by: by.into(),
        requested_at_ms: NOW - 60_000,
        expires_at_ms: NOW + 14 * 60_000,
        state: ActionState::Pending,
        approved_by: None,
        decided_at_ms: None,
        detail: String::new(),
    }
}

#[test]
fn who_may_approve_and_cancel() {
    let executed = ActionRequest { state: ActionState::Executed, ..pending("alice") };
    // (approver, role, request, now, expected status)
    let table = [
        ("carol", Role::Admin, pending("alice"), NOW, None),
        ("dave", Role::Oncall, pending("alice"), NOW, None),
        ("alice", Role::Oncall, pending("alice"), NOW, Some(403)),
        ("carol", Role::Admin, pending("carol"), NOW, Some(403)),
        ("bob", Role::Viewer, pending("alice"), NOW, Some(403)),
        ("carol", Role::Admin, pending("alice"), NOW + 14 * 60_000, Some(410)),
        ("carol", Role::Admin, executed.clone(), NOW, Some(409)),
    ];
    for (who, role, req, now, want) in table {
        let got = decide_approval(who, role, &req, false, now).err().map(|r| r.status);
        assert_eq!(got, want, "{who} ({role:?}) approving {}'s {:?} at {now}", req.requested_by, req.state);
    }
    assert_eq!(decide_approval("carol", Role::Admin, &pending("carol"), false, NOW).unwrap_err().code, "self_approval");
    assert_eq!(decide_approval("carol", Role::Admin, &pending("alice"), true, NOW).unwrap_err().status, 503);

    // (who, role, request, expected status)
    let cancels = [
        ("alice", Role::Oncall, pending("alice"), None),
        ("carol", Role::Admin, pending("alice"), None),
        ("dave", Role::Oncall, pending("alice"), Some(403)),
        ("alice", Role::Oncall, executed, Some(409)),
    ];
    for (who, role, req, want) in cancels {
        assert_eq!(decide_cancel(who, role, &req, false).err().map(|r| r.status), want, "{who} cancelling");
    }
}

#[test]
fn break_glass_only_for_a_lost_primary_and_a_second_on_call_where_the_site_needs_one() {
    use app::model::Mode;
    let lost = |since: Option<i64>| PrimaryWatch {
        mode: Mode::Secondary,
        read_only: true,
        primary: None,
        primary_console: None,
        lost_since_ms: since,
        watching: true,
    };
    let reachable = PrimaryWatch {
        primary: Some("db-sjc".into()),
        primary_console: Some("https://sjc.example.test".into()),
        lost_since_ms: None,
        ..lost(None)
    };
    let primary = PrimaryWatch { mode: Mode::Primary, read_only: false, ..lost(None) };
    let split = PrimaryWatch { mode: Mode::Primary, read_only: true, ..lost(None) };
    let blind = PrimaryWatch { watching: false, ..lost(None) };
    let after = 15_000;
    // (case, role, what is known, two-person site, outcome: step or refusal code)
    let table: Vec<(&str, Role, PrimaryWatch, bool, Result<GlassStep, &str>)> = vec![
        ("lost long enough, one-person site", Role::Oncall, lost(Some(NOW - 20_000)), false, Ok(GlassStep::Apply)),
        ("lost long enough, two-person site", Role::Oncall, lost(Some(NOW - 20_000)), true, Ok(GlassStep::AwaitSecond)),
        ("lost exactly the limit", Role::Admin, lost(Some(NOW - after)), false, Ok(GlassStep::Apply)),
        ("lost for too short a time", Role::Oncall, lost(Some(NOW - 5_000)), false, Err("primary_not_lost_yet")),
        ("the primary answers", Role::Oncall, reachable.clone(), false, Err("primary_reachable")),
        ("nothing watched", Role::Oncall, blind, false, Err("primary_unwatched")),
        ("a viewer", Role::Viewer, lost(Some(NOW - 20_000)), false, Err("forbidden")),
        ("on the primary", Role::Oncall, primary, false, Err("not_read_only")),
        ("a primary in split brain", Role::Oncall, split, false, Err("split_brain")),
    ];
    for (case, role, watch, two_person, want) in table {
        let got = decide_break_glass(role, &watch, two_person, after, NOW).map_err(|r| r.code);
        assert_eq!(got, want, "{case}");
    }
    // The refusal names the primary and links to its console.
    let r = decide_break_glass(Role::Oncall, &reachable, false, after, NOW).unwrap_err();
    assert!(r.message.contains("db-sjc") && r.message.contains("https://sjc.example.test/actions"), "{}", r.message);
    let r = decide_break_glass(Role::Oncall, &lost(Some(NOW - 5_000)), false, after, NOW).unwrap_err();
    assert!(r.message.contains("for 5 s") && r.message.contains("in 10 s"), "{}", r.message);

    // The second on-call: another person, allowed to operate, in time.
    // (approver, role, now, outcome)
    let table = [
        ("carol", Role::Oncall, NOW, Ok(())),
        ("alice", Role::Admin, NOW, Err("self_approval")),
        ("bob", Role::Viewer, NOW, Err("forbidden")),
        ("carol", Role::Oncall, NOW + 60_000, Err("expired")),
    ];
    for (approver, role, now, want) in table {
        assert_eq!(decide_glass_approval(approver, role, "alice", NOW + 60_000, now).map_err(|r| r.code), want, "{approver} {now}");
    }
}
