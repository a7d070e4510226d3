//! The parts of a Veeam sync beyond jobs and sessions: restore points per
//! protected machine and each job's RPO, and Veeam's own security and
//! health signals (malware detection, the configuration backup, the
//! licence). Each raises its event once when it starts and
//! `veeam_signal_cleared` (or `rpo_met`) once when it ends; a signal the
//! account may not read is noted on the server (shown in Settings, logged
//! once) and the rest keeps working.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};

use super::{
    client::{Client, VeeamError},
    hub::SyncError,
    store::{self as db, MachinePoint, NewSystemEvent, SignalsRow},
    wire::RestorePointModel,
};
use crate::ssr::{
    infra::{outbound::escape_control, state::AppState},
    jobs,
};

/// How far back the first sync of a server reads restore points; machines
/// with none that recent are asked for their newest one each.
pub const FIRST_LOOKBACK_DAYS: i64 = 7;

/// What these phases did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignalsReport {
    /// Restore points read.
    pub restore_points: usize,
    /// Machines whose newest point was stored.
    pub machines: usize,
    /// Events recorded.
    pub events: usize,
}

/// A non-outage error is told and skipped; an outage ends the sync.
fn soft<T>(result: Result<T, VeeamError>, what: &str, server_id: i64) -> Result<Option<T>, SyncError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.is_outage() => Err(e.into()),
        Err(e) => {
            tracing::warn!(server_id, what, error = %e, "could not read from Veeam; skipped this time");
            Ok(None)
        }
    }
}

fn forbidden(e: &VeeamError) -> bool {
    matches!(e, VeeamError::Api { status: 401 | 403, .. })
}

fn missing(e: &VeeamError) -> bool {
    matches!(e, VeeamError::Api { status: 404 | 405, .. })
}

async fn event(
    state: &AppState,
    report: &mut SignalsReport,
    event: NewSystemEvent<'_>,
) -> Result<(), SyncError> {
    db::record_event(&state.db, &event).await?;
    report.events += 1;
    Ok(())
}

/// Reads restore points (all of the last week on the first sync, then
/// those since the last read) and stores each machine's newest.
/// `by_veeam` maps Veeam job ids (lower case) to the console's jobs;
/// `running_since` is the start of the oldest session still running (its
/// points may still appear with an earlier creation time).
pub async fn sync_restore_points(
    state: &AppState,
    client: &Client,
    server_id: i64,
    by_veeam: &HashMap<String, i64>,
    running_since: Option<DateTime<Utc>>,
    progress: &mut (dyn FnMut(usize, i64) + Send),
    report: &mut SignalsReport,
) -> Result<bool, SyncError> {
    let now = Utc::now();
    let Some(backups) = soft(client.backups().await, "backups", server_id)? else { return Ok(false) };
    let backup_job: HashMap<String, i64> = backups
        .iter()
        .filter_map(|b| {
            let job = b.job_id.as_deref().map(str::to_lowercase)?;
            Some((b.id.to_lowercase(), *by_veeam.get(&job)?))
        })
        .collect();
    let before = db::signals(&state.db, server_id).await?;
    let first = before.restore_points_synced_until.is_none();
    let after = before
        .restore_points_synced_until
        .map_or(now - Duration::days(FIRST_LOOKBACK_DAYS), |t| t - Duration::minutes(1));
    let Some(points) = soft(client.restore_points(Some(after), progress).await, "restorePoints", server_id)?
    else {
        return Ok(false);
    };
    report.restore_points += points.len();
    let mut newest: HashMap<(i64, String), &RestorePointModel> = HashMap::new();
    let mut seen_until = before.restore_points_synced_until;
    for point in &points {
        seen_until = Some(seen_until.map_or(point.creation_time, |t| t.max(point.creation_time)));
        let Some(&job_id) = backup_job.get(&point.backup_id.to_lowercase()) else { continue };
        let key = (job_id, point.name.clone());
        if newest.get(&key).is_none_or(|p| p.creation_time < point.creation_time) {
            newest.insert(key, point);
        }
    }
    let mut stored: Vec<MachinePoint> = newest
        .into_iter()
        .map(|((job_id, name), p)| MachinePoint {
            job_id,
            name,
            backup_id: p.backup_id.to_lowercase(),
            at: p.creation_time,
            point_id: p.id.clone(),
            malware_status: p.malware_status.clone(),
        })
        .collect();
    if first {
        // Machines with no point in the last week: their newest, one by one.
        if let Some(objects) = soft(client.backup_objects().await, "backupObjects", server_id)? {
            let known: BTreeSet<String> = stored.iter().map(|p| p.name.to_lowercase()).collect();
            for object in objects {
                let Some(name) = object.name.as_deref() else { continue };
                if known.contains(&name.to_lowercase()) {
                    continue;
                }
                let Some(Some(point)) = soft(
                    client.newest_restore_point(&object.id).await,
                    "backupObject restorePoints",
                    server_id,
                )?
                else {
                    continue;
                };
                let Some(&job_id) = backup_job.get(&point.backup_id.to_lowercase()) else { continue };
                stored.push(MachinePoint {
                    job_id,
                    name: point.name.clone(),
                    backup_id: point.backup_id.to_lowercase(),
                    at: point.creation_time,
                    point_id: point.id.clone(),
                    malware_status: point.malware_status.clone(),
                });
            }
        }
    }
    report.machines += stored.len();
    for chunk in stored.chunks(500) {
        db::upsert_machines(&state.db, server_id, chunk, now).await?;
    }
    // Points of a session still running may yet appear: read from its start again.
    let until = match (seen_until, running_since) {
        (Some(seen), Some(running)) => Some(seen.min(running)),
        (seen, None) => seen,
        (None, Some(_)) => None,
    }
    .unwrap_or(after.max(now - Duration::days(FIRST_LOOKBACK_DAYS)));
    db::set_restore_points_synced_until(&state.db, server_id, until).await?;
    Ok(true)
}

/// The age of `at` at `now` in words ("3 d 4 h").
fn age(now: DateTime<Utc>, at: DateTime<Utc>) -> String {
    let hours = (now - at).num_hours().max(0);
    if hours >= 48 { format!("{} d {} h", hours / 24, hours % 24) } else { format!("{hours} h") }
}

/// Checks every job of the server that has an RPO against its machines'
/// newest restore points: `rpo_breached` when the first machine falls
/// outside, `rpo_met` when the last one is back inside.
pub async fn check_rpo(
    state: &AppState,
    server_id: i64,
    now: DateTime<Utc>,
    report: &mut SignalsReport,
) -> Result<(), SyncError> {
    let jobs_with_rpo: Vec<jobs::JobRow> = jobs::jobs_of_server(&state.db, server_id)
        .await?
        .into_iter()
        .filter(|j| j.veeam_server_id == Some(server_id) && j.rpo_hours.is_some() && j.removed_at.is_none())
        .collect();
    if jobs_with_rpo.is_empty() {
        return Ok(());
    }
    let mut machines: HashMap<i64, Vec<db::MachineRow>> = HashMap::new();
    for m in db::machines_of_server(&state.db, server_id).await? {
        machines.entry(m.job_id).or_default().push(m);
    }
    for job in jobs_with_rpo {
        let Some(hours) = job.rpo_hours else { continue };
        let limit = now - Duration::hours(hours);
        let outside: Vec<&db::MachineRow> = machines
            .get(&job.id)
            .map(|ms| ms.iter().filter(|m| m.newest_point_at < limit).collect())
            .unwrap_or_default();
        let before = jobs::set_rpo_state(&state.db, job.id, outside.len() as i64, now).await?;
        let subject = format!("rpo:{}", job.id);
        if before.is_none() && !outside.is_empty() {
            let mut details =
                format!("{} machine(s) without a restore point in the last {hours} h:", outside.len());
            for m in outside.iter().take(10) {
                details.push_str(&format!(
                    " {} ({} old);",
                    escape_control(&m.name),
                    age(now, m.newest_point_at)
                ));
            }
            event(
                state,
                report,
                NewSystemEvent {
                    kind: "rpo_breached",
                    veeam_server_id: Some(server_id),
                    job_id: Some(job.id),
                    subject: &subject,
                    subject_name: &job.name,
                    details: Some(details.trim_end_matches(';')),
                    occurred_at: now,
                },
            )
            .await?;
        } else if before.is_some() && outside.is_empty() {
            let details = format!("every machine has a restore point younger than {hours} h again");
            event(
                state,
                report,
                NewSystemEvent {
                    kind: "rpo_met",
                    veeam_server_id: Some(server_id),
                    job_id: Some(job.id),
                    subject: &subject,
                    subject_name: &job.name,
                    details: Some(&details),
                    occurred_at: now,
                },
            )
            .await?;
        }
    }
    Ok(())
}

/// The kind of event a raised signal is (`config_backup_stale`,
/// `license_expiring`, `malware:<machine>`).
fn kind_of_signal(signal: &str) -> &'static str {
    if signal.starts_with("malware:") {
        "veeam_malware_detected"
    } else if signal == "license_expiring" {
        "veeam_license_expiring"
    } else {
        "veeam_config_backup_stale"
    }
}

/// Reads the configuration backup, the licence and malware events, and
/// records the signals that started or ended since the last read.
pub async fn sync_signals(
    state: &AppState,
    client: &Client,
    server_id: i64,
    server_name: &str,
    time_zone: &str,
    report: &mut SignalsReport,
) -> Result<(), SyncError> {
    let now = Utc::now();
    let before = db::signals(&state.db, server_id).await?;
    let was: BTreeSet<String> =
        before.signals_raised.split('\n').filter(|s| !s.is_empty()).map(str::to_owned).collect();
    let mut raised: BTreeSet<String> = BTreeSet::new();
    let mut notes: BTreeSet<String> = BTreeSet::new();
    let mut details: HashMap<String, String> = HashMap::new();
    let mut jobs_of: HashMap<String, i64> = HashMap::new();
    let mut now_row = SignalsRow { time_zone: Some(time_zone.to_owned()), ..before.clone() };
    let carry = |prefix: &str, raised: &mut BTreeSet<String>| {
        raised.extend(was.iter().filter(|s| s.starts_with(prefix)).cloned());
    };

    // The configuration backup.
    match client.config_backup().await {
        Ok(config) => {
            now_row.config_backup_enabled = Some(config.is_enabled);
            now_row.config_backup_last_success = config.last_successful_time;
            let max = Duration::days(i64::from(state.settings.veeam_config_backup_max_days));
            let stale = !config.is_enabled || config.last_successful_time.is_none_or(|t| now - t > max);
            if stale {
                raised.insert("config_backup_stale".into());
                let text = match (config.is_enabled, config.last_successful_time) {
                    (false, _) => "the configuration backup is disabled".to_owned(),
                    (true, None) => "no successful configuration backup".to_owned(),
                    (true, Some(t)) => format!(
                        "last successful configuration backup {} ago ({})",
                        age(now, t),
                        t.format("%Y-%m-%d %H:%M UTC")
                    ),
                };
                details.insert("config_backup_stale".into(), text);
            }
        }
        Err(e) if e.is_outage() => return Err(e.into()),
        Err(e) => {
            notes.insert(
                if forbidden(&e) { "config_backup_forbidden" } else { "config_backup_unavailable" }.into(),
            );
            carry("config_backup", &mut raised);
        }
    }

    // The licence.
    match client.license().await {
        Ok(license) => {
            now_row.license_status = Some(license.status.clone());
            now_row.license_expires_at = license.expiration_date;
            let warn = Duration::days(i64::from(state.settings.veeam_license_warn_days));
            let expired = !license.status.eq_ignore_ascii_case("valid");
            let soon = license.expiration_date.is_some_and(|t| t - now <= warn);
            if expired || soon {
                raised.insert("license_expiring".into());
                let text = match license.expiration_date {
                    Some(t) if t <= now || expired => {
                        format!(
                            "the licence is {} (end {})",
                            escape_control(&license.status),
                            t.format("%Y-%m-%d")
                        )
                    }
                    Some(t) => format!(
                        "the licence expires on {} (in {} days)",
                        t.format("%Y-%m-%d"),
                        (t - now).num_days()
                    ),
                    None => format!("the licence is {}", escape_control(&license.status)),
                };
                details.insert("license_expiring".into(), text);
            }
        }
        Err(e) if e.is_outage() => return Err(e.into()),
        Err(e) => {
            notes.insert(if forbidden(&e) { "license_forbidden" } else { "license_unavailable" }.into());
            carry("license", &mut raised);
        }
    }

    // Malware detection (VBR 12.1 and later): per machine, its newest event decides.
    match client.malware_events(None).await {
        Ok(events) => {
            let known_machines: HashMap<String, db::MachineRow> =
                db::machines_of_server(&state.db, server_id)
                    .await?
                    .into_iter()
                    .map(|m| (m.name.to_lowercase(), m))
                    .collect();
            let machine_jobs: HashMap<String, i64> =
                known_machines.iter().map(|(name, m)| (name.clone(), m.job_id)).collect();
            let mut newest: HashMap<String, &super::wire::MalwareEventModel> = HashMap::new();
            for e in &events {
                let machine = e.machine_name.clone().unwrap_or_default();
                let job = machine_jobs.get(&machine.to_lowercase()).copied();
                db::upsert_malware_event(&state.db, server_id, e, job).await?;
                if newest.get(&machine).is_none_or(|n| n.detected_at <= e.detected_at) {
                    newest.insert(machine, e);
                }
            }
            for (machine, e) in newest {
                let bad = e.severity.as_deref().is_some_and(|s| {
                    s.eq_ignore_ascii_case("infected") || s.eq_ignore_ascii_case("suspicious")
                });
                let dismissed = e.state.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("falsepositive"));
                if bad && !dismissed {
                    let signal = format!("malware:{machine}");
                    if let Some(job) = machine_jobs.get(&machine.to_lowercase()) {
                        jobs_of.insert(signal.clone(), *job);
                    }
                    let point = known_machines
                        .get(&machine.to_lowercase())
                        .map(|m| {
                            format!(
                                "; newest restore point {} ({})",
                                escape_control(&m.newest_point_id),
                                m.newest_point_at.format("%Y-%m-%d %H:%M UTC")
                            )
                        })
                        .unwrap_or_default();
                    details.insert(
                        signal.clone(),
                        format!(
                            "{}: {} ({}), detected {}{}{point}",
                            escape_control(&machine),
                            escape_control(e.severity.as_deref().unwrap_or("")),
                            escape_control(e.source.as_deref().unwrap_or("Veeam")),
                            e.detected_at.format("%Y-%m-%d %H:%M UTC"),
                            e.details
                                .as_deref()
                                .map(|d| format!(": {}", escape_control(d)))
                                .unwrap_or_default()
                        ),
                    );
                    raised.insert(signal);
                }
            }
        }
        Err(e) if e.is_outage() => return Err(e.into()),
        Err(e) => {
            if !missing(&e) {
                notes.insert(if forbidden(&e) { "malware_forbidden" } else { "malware_unavailable" }.into());
            }
            carry("malware:", &mut raised);
        }
    }

    let notes_text = notes.iter().cloned().collect::<Vec<_>>().join("\n");
    if notes_text != before.signal_notes && !notes.is_empty() {
        // Told once: the server's row in Settings keeps showing it.
        tracing::warn!(server_id, notes = %notes_text, "the Veeam account cannot read some of Veeam's signals");
    }
    now_row.signal_notes = notes_text;
    now_row.signals_raised = raised.iter().cloned().collect::<Vec<_>>().join("\n");
    db::set_signals(&state.db, server_id, &now_row).await?;

    for signal in raised.difference(&was) {
        let (subject, subject_name) = match signal.strip_prefix("malware:") {
            Some(machine) => (format!("veeam:{server_id}:{signal}"), machine.to_owned()),
            None => (format!("veeam:{server_id}:{signal}"), server_name.to_owned()),
        };
        event(
            state,
            report,
            NewSystemEvent {
                kind: kind_of_signal(signal),
                veeam_server_id: Some(server_id),
                job_id: jobs_of.get(signal).copied(),
                subject: &subject,
                subject_name: &subject_name,
                details: details.get(signal).map(String::as_str),
                occurred_at: now,
            },
        )
        .await?;
    }
    for signal in was.difference(&raised) {
        let subject = format!("veeam:{server_id}:{signal}");
        let text = match signal.strip_prefix("malware:") {
            Some(machine) => {
                format!("{}: no longer flagged by Veeam's malware detection", escape_control(machine))
            }
            None if signal == "license_expiring" => "the licence is valid again".to_owned(),
            None => "a recent successful configuration backup exists again".to_owned(),
        };
        let subject_name = signal.strip_prefix("malware:").unwrap_or(server_name).to_owned();
        event(
            state,
            report,
            NewSystemEvent {
                kind: "veeam_signal_cleared",
                veeam_server_id: Some(server_id),
                job_id: None,
                subject: &subject,
                subject_name: &subject_name,
                details: Some(&text),
                occurred_at: now,
            },
        )
        .await?;
    }
    Ok(())
}
