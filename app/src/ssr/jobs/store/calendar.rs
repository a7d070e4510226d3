//! The `calendar_closures` table: the company's closures of the business
//! calendar. Days are stored as `YYYY-MM-DD` text on both databases (a
//! closure is a calendar date, not an instant).

use chrono::{DateTime, NaiveDate, Utc};

use crate::{
    on_db,
    ssr::{
        infra::db::{Db, readable},
        jobs::calendar::Closure,
    },
};

/// The stored form of a day.
const DAY_FORMAT: &str = "%Y-%m-%d";

/// A row of `calendar_closures`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClosureRow {
    /// Primary key.
    pub id: i64,
    /// First closed day, `YYYY-MM-DD`.
    pub first_day: String,
    /// Last closed day, `YYYY-MM-DD`.
    pub last_day: String,
    /// What it is.
    pub name: String,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

impl ClosureRow {
    /// The closure, or `None` (logged) when a stored day is not a date.
    pub fn closure(&self) -> Option<Closure> {
        let day = |text: &str| NaiveDate::parse_from_str(text, DAY_FORMAT).ok();
        match (day(&self.first_day), day(&self.last_day)) {
            (Some(first_day), Some(last_day)) => {
                Some(Closure { id: self.id, first_day, last_day, name: self.name.clone() })
            }
            _ => {
                tracing::error!(table = "calendar_closures", id = self.id, "a stored closure has a bad day");
                None
            }
        }
    }
}

/// Every closure, by first day.
#[tracing::instrument(skip_all)]
pub async fn list(db: &Db) -> Result<Vec<ClosureRow>, sqlx::Error> {
    const SQL: &str = "select id, first_day, last_day, name, created_at from calendar_closures \
                       order by first_day, last_day, id";
    on_db!(db, |pool| {
        let rows = sqlx::query(SQL).fetch_all(pool).await?;
        Ok(readable("calendar_closures", &rows))
    })
}

/// One closure.
#[tracing::instrument(skip_all, fields(id))]
pub async fn find(db: &Db, id: i64) -> Result<Option<ClosureRow>, sqlx::Error> {
    const SQL: &str = "select id, first_day, last_day, name, created_at from calendar_closures where id = $1";
    on_db!(db, |pool| {
        let rows = sqlx::query(SQL).bind(id).fetch_all(pool).await?;
        Ok(readable("calendar_closures", &rows).pop())
    })
}

/// Adds a closure; returns its id.
#[tracing::instrument(skip_all)]
pub async fn create(
    db: &Db,
    first_day: NaiveDate,
    last_day: NaiveDate,
    name: &str,
) -> Result<i64, sqlx::Error> {
    const SQL: &str = "insert into calendar_closures (first_day, last_day, name, created_at) \
                       values ($1, $2, $3, $4) returning id";
    let (first, last) = (first_day.format(DAY_FORMAT).to_string(), last_day.format(DAY_FORMAT).to_string());
    on_db!(db, |pool| {
        sqlx::query_scalar(SQL).bind(&first).bind(&last).bind(name).bind(Utc::now()).fetch_one(pool).await
    })
}

/// Removes a closure; false when there was none.
#[tracing::instrument(skip_all, fields(id))]
pub async fn delete(db: &Db, id: i64) -> Result<bool, sqlx::Error> {
    on_db!(db, |pool| {
        let done = sqlx::query("delete from calendar_closures where id = $1").bind(id).execute(pool).await?;
        Ok(done.rows_affected() == 1)
    })
}
