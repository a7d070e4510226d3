//! The Veeam client against the simulator: paging, tokens, faults, running
//! sessions, enum spelling, unknown values, revisions, TLS.

use std::{sync::Arc, time::Duration};

use app::ssr::veeam::{
    client::{Client, Options, Target, Tls, VeeamError, detect_revision},
    wire::{JobStatus, JobWorkload, SessionState},
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
