//! Status badges, as Healthchecks has them: `/badge/<token>.svg` is an
//! SVG that says whether a job, or every job with a tag (the worst of
//! them), is up, late or down, optionally with the last run's age, for a
//! wiki page or a README. The token (128 random bits) is the only
//! credential; operators make and revoke badges on the job page.

use chrono::{DateTime, Utc};

use super::store;
use crate::{
    error::AppError,
    model::{job::JobState, ops::StatusBadge, user::Role},
    ssr::{
        accounts::{
            Access, RequestInfo,
            audit::{self, Event, Target},
        },
        infra::state::AppState,
        jobs,
    },
};

/// What a badge shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// No job yet, or no run yet.
    New,
    /// Paused on purpose.
    Paused,
    /// Backups run and succeed.
    Up,
    /// The last run ended with warnings.
    Warning,
    /// A run is overdue or late.
    Late,
    /// The last run failed or was missed.
    Down,
}

impl Status {
    /// What a job in `state` shows.
    pub fn of(state: JobState) -> Self {
        match state {
            JobState::Ok | JobState::Running => Status::Up,
            JobState::Warning => Status::Warning,
            JobState::Late | JobState::Overdue => Status::Late,
            JobState::Failed | JobState::Missed => Status::Down,
            JobState::New => Status::New,
            JobState::Paused => Status::Paused,
        }
    }

    fn text(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Paused => "paused",
            Status::Up => "up",
            Status::Warning => "warning",
            Status::Late => "late",
            Status::Down => "down",
        }
    }

    fn colour(self) -> &'static str {
        match self {
            Status::New | Status::Paused => "#9f9f9f",
            Status::Up => "#2e7d32",
            Status::Warning => "#b7791f",
            Status::Late => "#c05621",
            Status::Down => "#c62828",
        }
    }
}

/// "15m", "3h", "2d": how long ago.
pub fn age(since: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let minutes = (now - since).num_minutes().max(0);
    match minutes {
        m if m < 60 => format!("{m}m"),
        m if m < 48 * 60 => format!("{}h", m / 60),
        m => format!("{}d", m / (24 * 60)),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// About how wide `text` is at 11 px Verdana.
fn width(text: &str) -> u32 {
    text.chars().map(|c| if c.is_ascii() { 7 } else { 12 }).sum::<u32>() + 10
}

/// The badge: `label` on grey, the status (and age) in its colour.
pub fn svg(label: &str, status: Status, age: Option<&str>) -> String {
    let label: String = label.chars().take(40).collect();
    let value = match age {
        Some(age) => format!("{} · {age}", status.text()),
        None => status.text().to_owned(),
    };
    let (lw, vw) = (width(&label), width(&value));
    let total = lw + vw;
    let (label, value) = (escape(&label), escape(&value));
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" aria-label="{label}: {value}"><title>{label}: {value}</title><linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient><clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath><g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/><rect x="{lw}" width="{vw}" height="20" fill="{colour}"/><rect width="{total}" height="20" fill="url(#s)"/></g><g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11"><text x="{lx}" y="14">{label}</text><text x="{vx}" y="14">{value}</text></g></svg>"##,
        colour = status.colour(),
        lx = lw / 2,
        vx = lw + vw / 2,
    )
}

/// The SVG of the live badge `token`, or `None` (unknown or revoked).
pub async fn render(state: &AppState, token: &str, now: DateTime<Utc>) -> Result<Option<String>, AppError> {
    let Some(badge) = store::badge_by_token(&state.db, token).await? else { return Ok(None) };
    let (label, status, last) = match (badge.job_id, &badge.tag) {
        (Some(job_id), _) => {
            let Some(job) = jobs::find(state, job_id).await? else { return Ok(None) };
            (job.name, Status::of(job.state), job.last_run_at)
        }
        (None, Some(tag)) => {
            let jobs = jobs::states_with_tag(state, tag).await?;
            let worst = jobs.iter().map(|(s, _)| Status::of(*s)).max().unwrap_or(Status::New);
            let last = jobs.iter().filter_map(|(_, at)| *at).max();
            (format!("#{tag}"), worst, last)
        }
        (None, None) => return Ok(None),
    };
    let age = badge.show_age.then(|| last.map(|at| age(at, now))).flatten();
    Ok(Some(svg(&label, status, age.as_deref())))
}

fn view(state: &AppState, row: store::BadgeRow) -> StatusBadge {
    let url = format!("{}badge/{}.svg", state.settings.base_url, row.token);
    let alt = match &row.tag {
        Some(tag) => format!("backup status #{tag}"),
        None => "backup status".to_owned(),
    };
    StatusBadge {
        id: row.id,
        markdown: format!("![{alt}]({url})"),
        html: format!(r#"<img src="{url}" alt="{alt}">"#),
        url,
        job_id: row.job_id,
        tag: row.tag,
        show_age: row.show_age,
        created_by: row.created_by,
        created_at: row.created_at,
    }
}

/// The badges of a job and of its tags (operators and administrators).
pub async fn of_job(state: &AppState, info: &RequestInfo, job_id: i64) -> Result<Vec<StatusBadge>, AppError> {
    let principal = info.require(Role::Operator, Access::Read)?;
    jobs::check_covers(state, principal, job_id).await?;
    let tags = jobs::tags_of(state, &[job_id]).await?.remove(&job_id).unwrap_or_default();
    let rows = store::badges_for(&state.db, job_id, &tags).await?;
    Ok(rows.into_iter().map(|row| view(state, row)).collect())
}

/// Makes a badge for the job, or for one of its tags (operators and up).
pub async fn create(
    state: &AppState,
    info: &RequestInfo,
    job_id: i64,
    tag: Option<String>,
    show_age: bool,
) -> Result<StatusBadge, AppError> {
    let principal = info.require(Role::Operator, Access::Write)?;
    jobs::check_covers(state, principal, job_id).await?;
    let job = jobs::find(state, job_id).await?.ok_or(AppError::NotFound)?;
    let tag = tag.map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty());
    // A tag badge shows jobs beyond this one: not for a token limited to some jobs.
    if tag.is_some() && principal.is_job_limited() {
        return Err(AppError::Forbidden);
    }
    if let Some(tag) = &tag {
        let tags = jobs::tags_of(state, &[job_id]).await?.remove(&job_id).unwrap_or_default();
        if !tags.contains(tag) {
            return Err(AppError::validation("tag", format!("the job has no tag `{tag}`")));
        }
    }
    let token = jobs::new_ping_token();
    let now = Utc::now();
    let id = store::insert_badge(
        &state.db,
        &token,
        tag.is_none().then_some(job_id),
        tag.as_deref(),
        show_age,
        &principal.username,
        now,
    )
    .await?;
    let name = match &tag {
        Some(tag) => format!("#{tag}"),
        None => job.name.clone(),
    };
    audit::record(state, info, Some(principal), Event::ok("badge.create", Target::new("badge", id, name)))
        .await;
    let row = store::badge(&state.db, id).await?.ok_or(AppError::Internal)?;
    Ok(view(state, row))
}

/// Revokes a badge: its URL answers 404 from now on (operators and up).
pub async fn revoke(state: &AppState, info: &RequestInfo, id: i64) -> Result<(), AppError> {
    let principal = info.require(Role::Operator, Access::Write)?;
    let row = store::badge(&state.db, id).await?.ok_or(AppError::NotFound)?;
    match row.job_id {
        Some(job_id) => jobs::check_covers(state, principal, job_id).await?,
        None if principal.is_job_limited() => return Err(AppError::Forbidden),
        None => {}
    }
    if !store::revoke_badge(&state.db, id, Utc::now()).await? {
        return Err(AppError::NotFound);
    }
    let name = row.tag.map(|t| format!("#{t}")).unwrap_or_default();
    audit::record(state, info, Some(principal), Event::ok("badge.revoke", Target::new("badge", id, name)))
        .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn the_badge_says_the_state_and_escapes_the_name() {
        let svg = svg("<東京> & co", Status::Down, Some("3h"));
        assert!(svg.contains("&lt;東京&gt; &amp; co"));
        assert!(svg.contains("down · 3h"));
        assert!(svg.contains("#c62828"));
        assert!(!svg.contains("<東京>"));
    }

    #[test]
    fn the_worst_job_decides_and_ages_read_short() {
        let worst = [JobState::Ok, JobState::Late, JobState::Warning].map(Status::of).into_iter().max();
        assert_eq!(worst, Some(Status::Late));
        assert!(Status::of(JobState::Missed) > Status::of(JobState::Overdue));
        let now = Utc::now();
        assert_eq!(age(now - Duration::minutes(5), now), "5m");
        assert_eq!(age(now - Duration::hours(30), now), "30h");
        assert_eq!(age(now - Duration::days(4), now), "4d");
    }
}
