//! Which jobs a rule or a maintenance window covers: all jobs (and the
//! server and repository events), jobs with one of some tags, or chosen
//! jobs. Stored as three columns (kind, comma-separated tags and ids).

use crate::{
    error::AppError,
    i18n::{Locale, td_string},
    model::notify::JobFilter as FilterInput,
    ssr::infra::input::split,
};

/// Which jobs a rule (or window) covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobFilter {
    /// Every job, and server and repository events.
    All,
    /// Jobs with one of these tags.
    Tags(Vec<String>),
    /// These jobs.
    Jobs(Vec<i64>),
}

impl JobFilter {
    /// From the stored columns (kind, comma-separated tags and ids); an
    /// unknown kind covers nothing.
    pub fn from_columns(kind: &str, tags: &str, job_ids: &str) -> Self {
        match kind {
            "all" => JobFilter::All,
            "tags" => JobFilter::Tags(split(tags)),
            "jobs" => JobFilter::Jobs(split(job_ids)),
            other => {
                tracing::error!(kind = other, "a stored job filter's kind is unknown; it covers no job");
                JobFilter::Jobs(vec![])
            }
        }
    }

    /// Whether it covers a job with these tags; `None` (a server or
    /// repository event) is covered by `All` only.
    pub fn covers(&self, job: Option<(i64, &[String])>) -> bool {
        match (self, job) {
            (JobFilter::All, _) => true,
            (_, None) => false,
            (JobFilter::Tags(tags), Some((_, job_tags))) => tags.iter().any(|t| job_tags.contains(t)),
            (JobFilter::Jobs(ids), Some((id, _))) => ids.contains(&id),
        }
    }
}

/// Whether the stored filter columns cover a job (see [`JobFilter::covers`]).
pub fn filter_covers(kind: &str, tags_csv: &str, ids_csv: &str, job: Option<(i64, &[String])>) -> bool {
    JobFilter::from_columns(kind, tags_csv, ids_csv).covers(job)
}

/// A job filter (`all` when absent), checked; tags trimmed and lowercase.
pub fn checked_filter(locale: Locale, filter: Option<FilterInput>) -> Result<FilterInput, AppError> {
    let filter = filter.unwrap_or(FilterInput { kind: "all".into(), ..FilterInput::default() });
    let ok = match filter.kind.as_str() {
        "all" => true,
        "tags" => {
            !filter.tags.is_empty() && filter.tags.iter().all(|t| !t.contains(',') && !t.trim().is_empty())
        }
        "jobs" => !filter.job_ids.is_empty(),
        _ => false,
    };
    if !ok {
        return Err(AppError::validation("job_filter", td_string!(locale, notify.errors.job_filter)));
    }
    Ok(FilterInput { tags: filter.tags.iter().map(|t| t.trim().to_lowercase()).collect(), ..filter })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_cover_jobs_and_only_all_covers_servers() {
        let tags = vec!["tokyo".to_owned()];
        assert!(filter_covers("all", "", "", None));
        assert!(!filter_covers("tags", "tokyo", "", None));
        assert!(filter_covers("tags", "osaka,tokyo", "", Some((3, &tags))));
        assert!(filter_covers("jobs", "", "2,3", Some((3, &tags))));
        assert!(!filter_covers("jobs", "", "2", Some((3, &tags))));
    }
}
