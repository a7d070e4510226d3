//! The Veeam client against the simulator: paging, tokens, faults, running
//! sessions, enum spelling, unknown values, revisions, TLS.

use std::{sync::Arc, time::Duration};

use app::ssr::veeam::{
    client::{Client, Options, Target, Tls, VeeamError, detect_revision},
    wire::{DailyKind, DayOfWeek, JobStatus, JobWorkload, PeriodicallyKind, SessionResult, SessionState},
};
use secrecy::SecretString;
use server::veeam_sim::{Faults, SimConfig, Simulator};

async fn simulator(config: SimConfig) -> Simulator {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Simulator::start(config, listener, false).await.unwrap()
}

fn target(sim: &Simulator, api_version: &str) -> Target {
    Target {
        base_url: sim.base_url.parse().unwrap(),
        username: "administrator".into(),
        password: SecretString::from("simulator"),
        api_version: api_version.into(),
        tls: Tls::CustomCa(sim.certificate_pem.clone().unwrap()),
    }
}

fn fast() -> Options {
    Options {
        timeout: Duration::from_secs(5),
        attempts: 3,
        backoff: Duration::from_millis(20),
        page_size: 200,
        breaker_threshold: 3,
        breaker_cooldown: Duration::from_millis(400),
        ..Options::default()
    }
}

fn frozen(jobs: usize, days: u32) -> SimConfig {
    SimConfig { jobs, history_days: days, speed: 0.0, ..SimConfig::default() }
}

#[tokio::test]
async fn collections_are_paged_past_200_items_even_when_pages_are_oversized() {
    let sim = simulator(frozen(450, 2)).await;
    let client = Client::new(target(&sim, "1.3-rev2"), fast()).unwrap();
    let jobs = client.job_states().await.unwrap();
    assert_eq!(jobs.len(), 450);
    let mut pages = Vec::new();
    let sessions = client.sessions(None, &mut |so_far, total| pages.push((so_far, total))).await.unwrap();
    let expected = sim.sessions().len();
    assert!(expected > 900, "{expected}");
    assert_eq!(sessions.len(), expected);
    assert_eq!(pages.len(), expected.div_ceil(200), "{pages:?}");
    assert_eq!(pages.last().unwrap(), &(expected, expected as i64));

    // A server that answers 250 items whatever limit was asked for.
    sim.set_faults(Faults { oversized_pages: true, ..Faults::default() });
    let again = client.sessions(None, &mut |_, _| {}).await.unwrap();
    let mut ids: Vec<&str> = again.iter().map(|s| s.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), expected, "every session once");
}

#[tokio::test]
async fn tokens_are_refreshed_before_they_expire_and_replaced_when_they_expire_early() {
    let sim = simulator(SimConfig { token_lifetime: 4, ..frozen(3, 1) }).await;
    let client = Client::new(target(&sim, "1.3-rev2"), fast()).unwrap();
    client.job_states().await.unwrap();
    assert_eq!(sim.grants(), (1, 0));
    // Refreshed a quarter of the lifetime before the end (3 s in).
    tokio::time::sleep(Duration::from_millis(3200)).await;
    client.job_states().await.unwrap();
    assert_eq!(sim.grants(), (1, 1), "refresh grant used");

    // Tokens that die long before their expires_in says: the 401 leads to a new sign-in.
    sim.set_faults(Faults { token_expires_after: Some(1), ..Faults::default() });
    let second = Client::new(target(&sim, "1.3-rev2"), fast()).unwrap();
    second.job_states().await.unwrap();
    assert_eq!(sim.grants(), (2, 1));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(second.job_states().await.unwrap().len(), 3);
    assert_eq!(sim.grants(), (3, 1), "the expired token was replaced by a password grant");
}

#[tokio::test]
async fn a_token_revoked_mid_sync_costs_one_sign_in_and_no_data() {
    let sim = Arc::new(simulator(frozen(300, 3)).await);
    let client = Client::new(target(&sim, "1.3-rev2"), Options { page_size: 50, ..fast() }).unwrap();
    client.job_states().await.unwrap();
    sim.set_faults(Faults { latency_ms: 20, ..Faults::default() });
    let revoker = {
        let sim = sim.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(150)).await;
            sim.set_faults(Faults { latency_ms: 20, revoke_tokens: true, ..Faults::default() });
        })
    };
    let sessions = client.sessions(None, &mut |_, _| {}).await.unwrap();
    revoker.await.unwrap();
    assert_eq!(sessions.len(), sim.sessions().len());
    assert_eq!(sim.grants().0, 2, "signed in again once");
}

#[tokio::test]
async fn server_errors_dropped_connections_and_timeouts_are_retried_and_the_breaker_recovers() {
    let sim = simulator(frozen(5, 1)).await;
    let client =
        Client::new(target(&sim, "1.3-rev2"), Options { timeout: Duration::from_millis(600), ..fast() })
            .unwrap();
    client.job_states().await.unwrap();

    // Two 500s, then success: within the three attempts.
    sim.set_faults(Faults { fail_next: 2, ..Faults::default() });
    assert_eq!(client.job_states().await.unwrap().len(), 5);
    // A dropped connection is retried too.
    sim.set_faults(Faults { drop_next: 1, ..Faults::default() });
    assert_eq!(client.job_states().await.unwrap().len(), 5);

    // Every try fails: a typed error from Veeam's error body.
    sim.set_faults(Faults { fail_next: 100, ..Faults::default() });
    match client.job_states().await {
        Err(VeeamError::Api { status: 500, code, message }) => {
            assert_eq!(code, "UnknownError");
            assert!(message.contains("Simulated"));
        }
        other => panic!("{other:?}"),
    }
    // Timeouts count as failures too; the third failed call opens the circuit.
    sim.set_faults(Faults { latency_ms: 2000, ..Faults::default() });
    assert_eq!(client.job_states().await.unwrap_err(), VeeamError::Timeout);
    assert!(matches!(client.job_states().await, Err(VeeamError::Timeout)));
    let started = std::time::Instant::now();
    let open = client.job_states().await.unwrap_err();
    assert!(matches!(open, VeeamError::CircuitOpen { .. }), "{open:?}");
    assert!(started.elapsed() < Duration::from_millis(100), "an open circuit fails at once");
    assert!(open.to_string().contains("did not answer in time"), "{open}");

    // The server comes back; after the cool-down the next call goes through.
    sim.set_faults(Faults::default());
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(client.job_states().await.unwrap().len(), 5);
    assert!(client.circuit().is_none());
}

#[tokio::test]
async fn running_sessions_have_no_end_or_result_until_they_finish() {
    let sim = simulator(frozen(20, 2)).await;
    let client = Client::new(target(&sim, "1.3-rev2"), fast()).unwrap();
    let sessions = client.sessions(None, &mut |_, _| {}).await.unwrap();
    let running: Vec<_> = sessions.iter().filter(|s| !s.finished()).collect();
    assert!(running.len() >= 2, "every tenth job is busy at start");
    for s in &running {
        assert!(s.end_time.is_none());
        assert!(matches!(
            s.state,
            SessionState::Working | SessionState::Starting | SessionState::Postprocessing
        ));
    }
    sim.advance(chrono::Duration::hours(2));
    for s in running {
        let now = client.session(&s.id).await.unwrap();
        assert_eq!(now.state, SessionState::Stopped);
        assert!(now.end_time.is_some_and(|end| end > now.creation_time));
        assert!(now.result.is_some_and(|r| r.result != app::ssr::veeam::wire::SessionResult::None));
    }
}

#[tokio::test]
async fn lowercase_and_capitalised_enums_and_unknown_values_parse() {
    for version in ["1.2-rev1", "1.3-rev2"] {
        let sim = simulator(SimConfig { api_version: version.into(), ..frozen(20, 1) }).await;
        let client = Client::new(target(&sim, version), fast()).unwrap();
        let jobs = client.job_states().await.unwrap();
        assert!(jobs.iter().all(|j| j.workload == JobWorkload::Vm), "{version}");
        assert!(jobs.iter().any(|j| j.status == JobStatus::Running), "{version}");
        assert!(jobs.iter().any(|j| j.status == JobStatus::Inactive), "{version}");

        sim.set_faults(Faults { unknown_enum_values: true, ..Faults::default() });
        let jobs = client.job_states().await.unwrap();
        assert!(
            jobs.iter()
                .all(|j| matches!(&j.status, JobStatus::Unknown(v) if v.eq_ignore_ascii_case("postponed")))
        );
        assert_eq!(jobs[0].workload.as_str(), "Mainframe");
    }
}

#[tokio::test]
async fn an_unsupported_revision_is_named_and_detection_finds_the_servers() {
    let sim = simulator(SimConfig { api_version: "1.2-rev1".into(), ..frozen(2, 1) }).await;
    let client = Client::new(target(&sim, "1.3-rev2"), fast()).unwrap();
    match client.check().await {
        Err(VeeamError::UnsupportedVersion { version, message }) => {
            assert_eq!(version, "1.3-rev2");
            assert!(message.contains("does not support the API version"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(detect_revision(&target(&sim, ""), &fast()).await.unwrap(), "1.2-rev1");
    let info = Client::new(target(&sim, "1.2-rev1"), fast()).unwrap().check().await.unwrap();
    assert_eq!(info.build_version, "12.3.1.1139");
    // Retry does not exist before 1.3.
    let jobs = Client::new(target(&sim, "1.2-rev1"), fast()).unwrap();
    assert!(matches!(jobs.retry_job("x").await, Err(VeeamError::UnsupportedVersion { .. })));
}

#[tokio::test]
async fn wrong_passwords_untrusted_certificates_and_dead_servers_are_told_apart() {
    let sim = simulator(frozen(2, 1)).await;
    let wrong = Target { password: SecretString::from("nope"), ..target(&sim, "1.3-rev2") };
    assert!(matches!(Client::new(wrong, fast()).unwrap().check().await, Err(VeeamError::Credentials(_))));

    let verify = Target { tls: Tls::Verify, ..target(&sim, "1.3-rev2") };
    let error = Client::new(verify, fast()).unwrap().check().await.unwrap_err();
    assert_eq!(error.code(), "certificate", "{error}");
    let insecure = Target { tls: Tls::Insecure, ..target(&sim, "1.3-rev2") };
    Client::new(insecure, fast()).unwrap().check().await.unwrap();

    let bad_pem = Target { tls: Tls::CustomCa("not a certificate".into()), ..target(&sim, "1.3-rev2") };
    assert_eq!(Client::new(bad_pem, fast()).unwrap_err().code(), "certificate");

    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let dead = Target {
        base_url: format!("https://127.0.0.1:{port}/").parse().unwrap(),
        ..target(&sim, "1.3-rev2")
    };
    let error = Client::new(dead, fast()).unwrap().check().await.unwrap_err();
    assert_eq!(error.code(), "unreachable", "{error}");
}

#[tokio::test]
async fn actions_start_stop_retry_enable_and_disable() {
    let sim = simulator(SimConfig { run_minutes: 1, ..frozen(3, 1) }).await;
    let client = Client::new(target(&sim, "1.3-rev2"), fast()).unwrap();
    let job =
        client.job_states().await.unwrap().into_iter().find(|j| j.status == JobStatus::Inactive).unwrap();
    let session = client.start_job(&job.id).await.unwrap();
    assert_eq!(session.job_id, job.id);
    assert!(!session.finished());
    assert!(matches!(client.start_job(&job.id).await, Err(VeeamError::Api { status: 400, .. })));
    let stopping = client.stop_job(&job.id).await.unwrap();
    assert_eq!(stopping.id, session.id);
    sim.advance(chrono::Duration::minutes(2));
    let ended = client.session(&session.id).await.unwrap();
    assert!(ended.finished() && ended.result.as_ref().is_some_and(|r| r.is_canceled == Some(true)));
    let retry = client.retry_job(&job.id).await.unwrap();
    assert_ne!(retry.id, session.id);
    sim.advance(chrono::Duration::minutes(2));
    client.set_job_enabled(&job.id, false).await.unwrap();
    let disabled = client.job_states().await.unwrap().into_iter().find(|j| j.id == job.id).unwrap();
    assert_eq!(disabled.status, JobStatus::Disabled);
    client.set_job_enabled(&job.id, true).await.unwrap();
    assert!(matches!(
        client.start_job("6a1f8e2b-0000-4000-8000-000000000000").await,
        Err(VeeamError::Api { status: 404, .. })
    ));
}

#[tokio::test]
async fn jobs_backups_restore_points_malware_config_backup_and_license_are_read_on_both_revisions() {
    for version in ["1.2-rev1", "1.3-rev2"] {
        let sim = simulator(SimConfig {
            api_version: version.into(),
            schedule_kinds: true,
            machines_per_job: 2,
            ..frozen(20, 3)
        })
        .await;
        let client = Client::new(target(&sim, version), fast()).unwrap();
        let time = client.server_time().await.unwrap();
        assert_eq!(time.iana_time_zone_id.is_some(), version.starts_with("1.3"));
        let jobs = client.jobs().await.unwrap();
        assert_eq!(jobs.len(), 20);
        let schedules: Vec<_> = jobs.iter().map(|j| j.schedule.clone().unwrap()).collect();
        assert!(schedules.iter().all(|s| s.run_automatically));
        assert!(schedules.iter().any(|s| s.daily.as_ref().unwrap().daily_kind == Some(DailyKind::WeekDays)));
        assert!(schedules.iter().any(|s| s.daily.as_ref().unwrap().days.first() == Some(&DayOfWeek::Monday)));
        let periodic = schedules.iter().find(|s| s.periodically.as_ref().unwrap().is_enabled).unwrap();
        assert_eq!(periodic.periodically.as_ref().unwrap().periodically_kind, Some(PeriodicallyKind::Hours));
        let after = schedules.iter().find(|s| s.after_this_job.as_ref().unwrap().is_enabled).unwrap();
        assert_eq!(after.after_this_job.as_ref().unwrap().job_name.as_deref(), Some(jobs[7].name.as_str()));
        assert!(schedules.iter().any(|s| s.monthly.as_ref().unwrap().is_enabled));
        // jobs/states: the job after another is due after that one.
        let states = client.job_states().await.unwrap();
        let before = states.iter().find(|s| s.id == jobs[7].id).unwrap().next_run.unwrap();
        let following = states.iter().find(|s| s.id == jobs[8].id).unwrap();
        assert!(following.next_run.unwrap() > before);
        if version.starts_with("1.3") {
            assert_eq!(
                following.next_run_policy.as_deref(),
                Some(format!("After job: {}", jobs[7].name).as_str())
            );
        }

        let backups = client.backups().await.unwrap();
        assert_eq!(backups.len(), 20);
        assert!(backups.iter().all(|b| b.job_id.is_some()));
        let objects = client.backup_objects().await.unwrap();
        assert_eq!(objects.len(), 40);
        let points = client.restore_points(None, &mut |_, _| {}).await.unwrap();
        let counted: i64 = objects.iter().map(|o| o.restore_points_count.unwrap()).sum();
        assert_eq!(points.len() as i64, counted);
        assert!(points.windows(2).all(|w| w[0].creation_time <= w[1].creation_time), "oldest first");
        let object = objects.iter().find(|o| o.restore_points_count.unwrap() > 0).unwrap();
        let name = object.name.clone().unwrap();
        let newest = client.newest_restore_point(&object.id).await.unwrap().unwrap();
        let expected = points.iter().filter(|p| p.name == name).map(|p| p.creation_time).max().unwrap();
        assert_eq!(newest.creation_time, expected);
        assert_eq!(newest.malware_status.as_deref(), Some("Clean"));

        assert!(client.malware_events(None).await.unwrap().is_empty());
        sim.set_faults(Faults { malware_machines: vec![name.clone()], ..Faults::default() });
        let events = client.malware_events(None).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].machine_name.as_deref(), Some(name.as_str()));
        assert_eq!(events[0].backup_object_id.as_deref(), Some(object.id.as_str()));
        assert_eq!(events[0].severity.as_deref(), Some("Infected"));
        let infected = client.newest_restore_point(&object.id).await.unwrap().unwrap();
        assert_eq!(infected.malware_status.as_deref(), Some("Infected"));
        let later = events[0].detected_at + chrono::Duration::seconds(1);
        assert!(client.malware_events(Some(later)).await.unwrap().is_empty());

        let config = client.config_backup().await.unwrap();
        assert!(config.is_enabled);
        let age = time.server_time - config.last_successful_time.unwrap();
        assert!(age > chrono::Duration::hours(1) && age < chrono::Duration::days(1), "{age}");
        sim.set_faults(Faults {
            config_backup_age_days: Some(10),
            config_backup_disabled: true,
            ..Faults::default()
        });
        let config = client.config_backup().await.unwrap();
        assert!(!config.is_enabled);
        assert!(time.server_time - config.last_successful_time.unwrap() >= chrono::Duration::days(10));

        let license = client.license().await.unwrap();
        assert_eq!(license.status, "Valid");
        let left = license.expiration_date.unwrap() - time.server_time;
        assert!(left > chrono::Duration::days(300), "{left}");
        sim.set_faults(Faults { license_expires_in_days: Some(-2), ..Faults::default() });
        let license = client.license().await.unwrap();
        assert_eq!(license.status, "Expired");
        assert!(license.expiration_date.unwrap() < time.server_time);
        sim.set_faults(Faults { license_forbidden: true, ..Faults::default() });
        let denied = client.license().await.unwrap_err();
        assert!(matches!(denied, VeeamError::Api { status: 403, .. }), "{denied:?}");
    }
}

#[tokio::test]
async fn malware_events_are_missing_before_1_1_rev1() {
    let sim = simulator(frozen(2, 1)).await;
    let client = Client::new(target(&sim, "1.1-rev0"), fast()).unwrap();
    let error = client.malware_events(None).await.unwrap_err();
    assert!(matches!(error, VeeamError::Api { status: 404, .. }), "{error:?}");
}

#[tokio::test]
async fn restore_points_are_paged_and_filtered_by_creation_time() {
    let sim = simulator(SimConfig { machines_per_job: 4, ..frozen(10, 3) }).await;
    let client = Client::new(target(&sim, "1.3-rev2"), Options { page_size: 7, ..fast() }).unwrap();
    let mut pages = Vec::new();
    let all = client.restore_points(None, &mut |so_far, total| pages.push((so_far, total))).await.unwrap();
    assert!(all.len() > 40, "{}", all.len());
    assert_eq!(pages.len(), all.len().div_ceil(7), "{pages:?}");
    let mut ids: Vec<&str> = all.iter().map(|p| p.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), all.len(), "every restore point once");
    let cut = all[all.len() / 2].creation_time;
    let after = client.restore_points(Some(cut), &mut |_, _| {}).await.unwrap();
    assert_eq!(after.len(), all.iter().filter(|p| p.creation_time > cut).count());
    assert!(after.iter().all(|p| p.creation_time > cut));
}

#[tokio::test]
async fn unscheduled_skipped_and_stale_faults_show() {
    let sim = simulator(SimConfig { machines_per_job: 2, ..frozen(6, 3) }).await;
    let client = Client::new(target(&sim, "1.3-rev2"), fast()).unwrap();
    let jobs = client.job_states().await.unwrap();
    let (unscheduled, skipped) = (&jobs[1], &jobs[2]);
    let due = skipped.next_run.unwrap();
    sim.set_faults(Faults {
        unscheduled_jobs: vec![unscheduled.id.clone()],
        skipped_jobs: vec![skipped.id.clone()],
        ..Faults::default()
    });
    let states = client.job_states().await.unwrap();
    let off = states.iter().find(|s| s.id == unscheduled.id).unwrap();
    assert!(off.next_run.is_none());
    assert_eq!(off.next_run_policy.as_deref(), Some("<Not scheduled>"));
    let listed = client.jobs().await.unwrap();
    let schedule = listed.iter().find(|j| j.id == unscheduled.id).unwrap().schedule.clone().unwrap();
    assert!(!schedule.run_automatically && !schedule.daily.unwrap().is_enabled);
    assert_eq!(states.iter().find(|s| s.id == skipped.id).unwrap().next_run, Some(due));

    // The stale machine's newest restore point stops where it is.
    let objects = client.backup_objects().await.unwrap();
    let stale_name = sim.machines(&jobs[3].id)[0].clone();
    let stale = objects.iter().find(|o| o.name.as_deref() == Some(stale_name.as_str())).unwrap();
    let before = client.newest_restore_point(&stale.id).await.unwrap().map(|p| p.creation_time);
    sim.set_faults(Faults {
        unscheduled_jobs: vec![unscheduled.id.clone()],
        skipped_jobs: vec![skipped.id.clone()],
        stale_machines: vec![stale_name.clone()],
        ..Faults::default()
    });
    let now = client.server_time().await.unwrap().server_time;
    sim.advance((due - now) + chrono::Duration::days(2));
    let sessions = client.sessions(None, &mut |_, _| {}).await.unwrap();
    assert!(!sessions.iter().any(|s| s.job_id == skipped.id && s.creation_time >= due), "skipped job ran");
    assert!(
        !sessions.iter().any(|s| s.job_id == unscheduled.id && s.creation_time > now),
        "unscheduled job ran"
    );
    assert!(sessions.iter().any(|s| s.job_id == jobs[3].id && s.creation_time > now), "other jobs run");
    let states = client.job_states().await.unwrap();
    assert!(states.iter().find(|s| s.id == skipped.id).unwrap().next_run.unwrap() > due, "next run moves on");
    let after = client.newest_restore_point(&stale.id).await.unwrap().map(|p| p.creation_time);
    assert_eq!(before, after, "stale machine has no new restore points");
    let sibling = sim.machines(&jobs[3].id)[1].clone();
    let points = client.restore_points(Some(now), &mut |_, _| {}).await.unwrap();
    assert!(!points.iter().any(|p| p.name == stale_name));
    let sibling_points = points.iter().filter(|p| p.name == sibling).count();
    let runs = sessions
        .iter()
        .filter(|s| {
            // A session running at `now` makes its points when it ends, after `now`.
            s.job_id == jobs[3].id
                && s.end_time.is_some_and(|end| end > now)
                && s.finished()
                && s.result
                    .as_ref()
                    .is_some_and(|r| matches!(r.result, SessionResult::Success | SessionResult::Warning))
        })
        .count();
    assert_eq!(sibling_points, runs);

    // A disabled job reads as disabled in /jobs.
    client.set_job_enabled(&jobs[4].id, false).await.unwrap();
    assert!(client.jobs().await.unwrap().iter().find(|j| j.id == jobs[4].id).unwrap().is_disabled);
}
