//! What a notification says, independent of the channel: a [`Notice`]
//! (the facts) rendered into a [`Rendered`] message in one language.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::{
    i18n::{Locale, td_string},
    model::{
        format::{format_duration, result_name},
        job::RunResult,
    },
};

/// The events rules can match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A run failed.
    RunFailed,
    /// A run ended with a warning.
    RunWarning,
    /// An expected run did not happen.
    RunMissed,
    /// A job is past its expected time.
    JobLate,
    /// A run is taking longer than allowed.
    JobOverdue,
    /// A job is fine again after an announced problem.
    JobRecovered,
    /// A Veeam server cannot be reached.
    VeeamUnreachable,
    /// A Veeam server answers again.
    VeeamRecovered,
    /// A repository went below its free-space threshold.
    RepositoryLowSpace,
    /// A background task of the console stalled or keeps failing.
    ConsoleDegraded,
    /// That task works again.
    ConsoleRecovered,
    /// A notification was given up (`dead`).
    DeliveryDead,
    /// A Veeam job was disabled in Veeam (it will not run).
    VeeamJobDisabled,
    /// A Veeam job is enabled but its schedule is off: it will never run by itself.
    VeeamJobUnscheduled,
    /// A machine of a job has no restore point younger than the job's RPO.
    RpoBreached,
    /// Every machine of the job is within its RPO again.
    RpoMet,
    /// Veeam detected malware (an infected or suspicious restore point).
    VeeamMalwareDetected,
    /// Veeam's configuration backup is disabled or too old.
    VeeamConfigBackupStale,
    /// Veeam's licence expires soon or has expired.
    VeeamLicenseExpiring,
    /// A Veeam job or signal told before is fine again (enabled, scheduled, malware resolved, configuration backup taken, licence renewed).
    VeeamSignalCleared,
    /// An operator acknowledged a job's problem.
    JobAcknowledged,
    /// A successful run far outside its job's recent pattern (suspiciously
    /// small or unusually large, short or long).
    RunAnomaly,
    /// The console's own daily backup failed or did not happen.
    ConsoleBackupFailed,
    /// The console's data directory is short of free space.
    ConsoleDiskLow,
    /// The console keeps answering requests with server errors (5xx).
    ConsoleErrorRate,
}

impl EventKind {
    /// Every kind, in the order the UI lists them.
    pub const ALL: [EventKind; 25] = [
        EventKind::RunFailed,
        EventKind::RunWarning,
        EventKind::RunMissed,
        EventKind::JobLate,
        EventKind::JobOverdue,
        EventKind::JobRecovered,
        EventKind::VeeamUnreachable,
        EventKind::VeeamRecovered,
        EventKind::RepositoryLowSpace,
        EventKind::ConsoleDegraded,
        EventKind::ConsoleRecovered,
        EventKind::DeliveryDead,
        EventKind::VeeamJobDisabled,
        EventKind::VeeamJobUnscheduled,
        EventKind::RpoBreached,
        EventKind::RpoMet,
        EventKind::VeeamMalwareDetected,
        EventKind::VeeamConfigBackupStale,
        EventKind::VeeamLicenseExpiring,
        EventKind::VeeamSignalCleared,
        EventKind::JobAcknowledged,
        EventKind::RunAnomaly,
        EventKind::ConsoleBackupFailed,
        EventKind::ConsoleDiskLow,
        EventKind::ConsoleErrorRate,
    ];

    /// The API name (`run_failed`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::RunFailed => "run_failed",
            EventKind::RunWarning => "run_warning",
            EventKind::RunMissed => "run_missed",
            EventKind::JobLate => "job_late",
            EventKind::JobOverdue => "job_overdue",
            EventKind::JobRecovered => "job_recovered",
            EventKind::VeeamUnreachable => "veeam_unreachable",
            EventKind::VeeamRecovered => "veeam_recovered",
            EventKind::RepositoryLowSpace => "repository_low_space",
            EventKind::ConsoleDegraded => "console_degraded",
            EventKind::ConsoleRecovered => "console_recovered",
            EventKind::DeliveryDead => "delivery_dead",
            EventKind::VeeamJobDisabled => "veeam_job_disabled",
            EventKind::VeeamJobUnscheduled => "veeam_job_unscheduled",
            EventKind::RpoBreached => "rpo_breached",
            EventKind::RpoMet => "rpo_met",
            EventKind::VeeamMalwareDetected => "veeam_malware_detected",
            EventKind::VeeamConfigBackupStale => "veeam_config_backup_stale",
            EventKind::VeeamLicenseExpiring => "veeam_license_expiring",
            EventKind::VeeamSignalCleared => "veeam_signal_cleared",
            EventKind::JobAcknowledged => "job_acknowledged",
            EventKind::RunAnomaly => "run_anomaly",
            EventKind::ConsoleBackupFailed => "console_backup_failed",
            EventKind::ConsoleDiskLow => "console_disk_low",
            EventKind::ConsoleErrorRate => "console_error_rate",
        }
    }

    /// Whether a message of this kind is about a job's problem an operator
    /// can acknowledge (and so carries an "Acknowledge" link).
    pub fn acknowledgeable(self) -> bool {
        matches!(
            self,
            EventKind::RunFailed
                | EventKind::RunWarning
                | EventKind::RunMissed
                | EventKind::JobLate
                | EventKind::JobOverdue
                | EventKind::RpoBreached
                | EventKind::VeeamJobUnscheduled
        )
    }

    /// How bad it is.
    pub fn severity(self) -> Severity {
        match self {
            EventKind::RunFailed
            | EventKind::RunMissed
            | EventKind::VeeamUnreachable
            | EventKind::ConsoleDegraded
            | EventKind::ConsoleErrorRate
            | EventKind::VeeamJobUnscheduled
            | EventKind::RpoBreached
            | EventKind::VeeamMalwareDetected => Severity::Critical,
            EventKind::RunWarning
            | EventKind::JobLate
            | EventKind::JobOverdue
            | EventKind::RepositoryLowSpace
            | EventKind::DeliveryDead
            | EventKind::VeeamJobDisabled
            | EventKind::VeeamConfigBackupStale
            | EventKind::VeeamLicenseExpiring
            | EventKind::RunAnomaly
            | EventKind::ConsoleBackupFailed
            | EventKind::ConsoleDiskLow => Severity::Warning,
            EventKind::JobRecovered
            | EventKind::VeeamRecovered
            | EventKind::ConsoleRecovered
            | EventKind::RpoMet
            | EventKind::VeeamSignalCleared
            | EventKind::JobAcknowledged => Severity::Good,
        }
    }
}

/// Colour of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Red.
    Critical,
    /// Amber.
    Warning,
    /// Green.
    Good,
}

impl Severity {
    /// As `0xRRGGBB` (Discord's `color`).
    pub fn rgb(self) -> u32 {
        match self {
            Severity::Critical => 0xC0262D,
            Severity::Warning => 0x9A5B00,
            Severity::Good => 0x16794C,
        }
    }

    /// Adaptive Card text colour.
    pub fn card_color(self) -> &'static str {
        match self {
            Severity::Critical => "Attention",
            Severity::Warning => "Warning",
            Severity::Good => "Good",
        }
    }
}

/// The facts of one notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// What happened.
    pub kind: EventKind,
    /// The job (or server, or repository) it is about.
    pub subject_name: String,
    /// The job's id, when about a job.
    pub job_id: Option<i64>,
    /// The run's result.
    pub result: Option<RunResult>,
    /// When it happened (the run's start, or the event's time).
    pub at: DateTime<Utc>,
    /// How long the run took.
    pub duration_seconds: Option<i64>,
    /// The run's message or the server's error.
    pub excerpt: Option<String>,
    /// Jobs of a server that is down, or the runs missed while it was
    /// (correlation: told once in the server's messages).
    pub related: Vec<String>,
    /// A reminder: the problem is still there (rules with `repeat_every_hours`).
    #[serde(default)]
    pub reminder: bool,
    /// The console page to link when not about a job (`repositories`, `settings/veeam`).
    #[serde(default)]
    pub link_path: Option<String>,
}

/// A notice in one language, ready for any channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// One line: the e-mail subject, the chat title and preview.
    pub title: String,
    /// Label and value pairs.
    pub facts: Vec<(String, String)>,
    /// The excerpt, at most 500 characters.
    pub excerpt: Option<String>,
    /// Link to the job page (or the console).
    pub link: String,
    /// The link's text.
    pub link_text: String,
    /// For a job's problem: the console's page that acknowledges it.
    pub ack_link: Option<String>,
    /// That link's text.
    pub ack_link_text: String,
    /// Colour.
    pub severity: Severity,
    /// Footer.
    pub footer: String,
}

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Renders `notice` in `locale`, times in `tz`, links under `base_url`.
pub fn render(notice: &Notice, locale: Locale, tz: Tz, base_url: &url::Url) -> Rendered {
    let name = notice.subject_name.clone();
    let title = match notice.kind {
        EventKind::RunFailed => td_string!(locale, notify.event.run_failed, name = name.clone()).to_string(),
        EventKind::RunWarning => {
            td_string!(locale, notify.event.run_warning, name = name.clone()).to_string()
        }
        EventKind::RunMissed => td_string!(locale, notify.event.run_missed, name = name.clone()).to_string(),
        EventKind::JobLate => td_string!(locale, notify.event.job_late, name = name.clone()).to_string(),
        EventKind::JobOverdue => {
            td_string!(locale, notify.event.job_overdue, name = name.clone()).to_string()
        }
        EventKind::JobRecovered => {
            td_string!(locale, notify.event.job_recovered, name = name.clone()).to_string()
        }
        EventKind::VeeamUnreachable => {
            td_string!(locale, notify.event.veeam_unreachable, name = name.clone()).to_string()
        }
        EventKind::VeeamRecovered => {
            td_string!(locale, notify.event.veeam_recovered, name = name.clone()).to_string()
        }
        EventKind::RepositoryLowSpace => {
            td_string!(locale, notify.event.repository_low_space, name = name.clone()).to_string()
        }
        EventKind::ConsoleDegraded => {
            td_string!(locale, notify.event.console_degraded, name = name.clone()).to_string()
        }
        EventKind::ConsoleRecovered => {
            td_string!(locale, notify.event.console_recovered, name = name.clone()).to_string()
        }
        EventKind::ConsoleBackupFailed => {
            td_string!(locale, notify.event.console_backup_failed, name = name.clone()).to_string()
        }
        EventKind::ConsoleDiskLow => {
            td_string!(locale, notify.event.console_disk_low, name = name.clone()).to_string()
        }
        EventKind::ConsoleErrorRate => {
            td_string!(locale, notify.event.console_error_rate, name = name.clone()).to_string()
        }
        EventKind::DeliveryDead => {
            td_string!(locale, notify.event.delivery_dead, name = name.clone()).to_string()
        }
        EventKind::VeeamJobDisabled => {
            td_string!(locale, notify.event.veeam_job_disabled, name = name.clone()).to_string()
        }
        EventKind::VeeamJobUnscheduled => {
            td_string!(locale, notify.event.veeam_job_unscheduled, name = name.clone()).to_string()
        }
        EventKind::RpoBreached => {
            td_string!(locale, notify.event.rpo_breached, name = name.clone()).to_string()
        }
        EventKind::RpoMet => td_string!(locale, notify.event.rpo_met, name = name.clone()).to_string(),
        EventKind::VeeamMalwareDetected => {
            td_string!(locale, notify.event.veeam_malware_detected, name = name.clone()).to_string()
        }
        EventKind::VeeamConfigBackupStale => {
            td_string!(locale, notify.event.veeam_config_backup_stale, name = name.clone()).to_string()
        }
        EventKind::VeeamLicenseExpiring => {
            td_string!(locale, notify.event.veeam_license_expiring, name = name.clone()).to_string()
        }
        EventKind::VeeamSignalCleared => {
            td_string!(locale, notify.event.veeam_signal_cleared, name = name.clone()).to_string()
        }
        EventKind::JobAcknowledged => {
            td_string!(locale, notify.event.job_acknowledged, name = name.clone()).to_string()
        }
        EventKind::RunAnomaly => {
            td_string!(locale, notify.event.run_anomaly, name = name.clone()).to_string()
        }
    };
    let title =
        if notice.reminder { td_string!(locale, notify.reminder, title = title).to_string() } else { title };
    let mut facts = Vec::new();
    if notice.job_id.is_some() {
        facts.push((td_string!(locale, notify.label.job).to_string(), name.clone()));
    }
    if let Some(result) = notice.result {
        facts.push((td_string!(locale, notify.label.result).to_string(), result_name(locale, result)));
    }
    let local = notice.at.with_timezone(&tz);
    facts.push((
        td_string!(locale, notify.label.time).to_string(),
        format!("{} ({})", local.format("%Y-%m-%d %H:%M"), local.format("%Z")),
    ));
    if let Some(seconds) = notice.duration_seconds {
        facts.push((td_string!(locale, notify.label.duration).to_string(), format_duration(seconds)));
    }
    if !notice.related.is_empty() {
        let label = match notice.kind {
            EventKind::VeeamUnreachable => td_string!(locale, notify.label.jobs_affected).to_string(),
            EventKind::VeeamRecovered => td_string!(locale, notify.label.missed_during).to_string(),
            EventKind::DeliveryDead => td_string!(locale, notify.label.undelivered).to_string(),
            _ => td_string!(locale, notify.label.related).to_string(),
        };
        facts.push((label, cut(&notice.related.join(", "), 600)));
    }
    let link = match (notice.job_id, &notice.link_path) {
        (Some(id), _) => base_url.join(&format!("jobs/{id}")).map(|u| u.to_string()).unwrap_or_default(),
        (None, Some(path)) => base_url.join(path).map(|u| u.to_string()).unwrap_or_default(),
        (None, None) => base_url.to_string(),
    };
    let ack_link = notice
        .job_id
        .filter(|_| notice.kind.acknowledgeable())
        .and_then(|id| base_url.join(&format!("jobs/{id}/acknowledge")).ok())
        .map(|u| u.to_string());
    Rendered {
        title,
        facts,
        ack_link,
        ack_link_text: td_string!(locale, notify.acknowledge).to_string(),
        excerpt: notice.excerpt.as_deref().map(str::trim).filter(|e| !e.is_empty()).map(|e| cut(e, 500)),
        link,
        link_text: if notice.job_id.is_some() {
            td_string!(locale, notify.open_job).to_string()
        } else {
            td_string!(locale, notify.open_console).to_string()
        },
        severity: notice.kind.severity(),
        footer: td_string!(locale, notify.footer).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(kind: EventKind, job_id: Option<i64>) -> Notice {
        Notice {
            kind,
            subject_name: "nightly".into(),
            job_id,
            result: None,
            at: Utc::now(),
            duration_seconds: None,
            excerpt: None,
            related: vec![],
            reminder: true,
            link_path: None,
        }
    }

    #[test]
    fn a_job_problem_carries_an_acknowledge_link_and_a_recovery_does_not() {
        let base =
            url::Url::parse("https://backup.example.co.jp/console/").unwrap_or_else(|_| unreachable!());
        for kind in [
            EventKind::RunFailed,
            EventKind::RunMissed,
            EventKind::JobLate,
            EventKind::JobOverdue,
            EventKind::RpoBreached,
            EventKind::VeeamJobUnscheduled,
        ] {
            let m = render(&notice(kind, Some(7)), Locale::ja, chrono_tz::Asia::Tokyo, &base);
            assert_eq!(
                m.ack_link.as_deref(),
                Some("https://backup.example.co.jp/console/jobs/7/acknowledge"),
                "{kind:?}"
            );
        }
        let m = render(&notice(EventKind::RunFailed, Some(7)), Locale::en, chrono_tz::UTC, &base);
        assert_eq!(m.ack_link_text, "Acknowledge");
        for (kind, job) in [
            (EventKind::JobRecovered, Some(7)),
            (EventKind::JobAcknowledged, Some(7)),
            (EventKind::VeeamUnreachable, None),
        ] {
            assert_eq!(
                render(&notice(kind, job), Locale::en, chrono_tz::UTC, &base).ack_link,
                None,
                "{kind:?}"
            );
        }
    }
}
