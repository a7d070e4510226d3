//! Log files beside stdout: `app.log` (everything logged), `error.log`
//! (warnings and errors) and `access.log` (one line per request) in
//! `log_dir`, as the design's `/var/log/backup-mgmt/`.
//!
//! Each file rotates at midnight in the console's time zone: `app.log`
//! becomes `app.log.2026-12-03` and a new `app.log` begins; rotated files
//! older than `log_retention_days` are removed. The clock is injected so
//! the rotation can be tested without waiting for midnight.

use std::{
    fs::{File, OpenOptions},
    io::Write,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

/// What tells the time (tests move it).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// A log file that rotates daily and removes what is older than its retention.
#[derive(Clone)]
pub struct DailyFile {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    name: String,
    retention_days: u32,
    timezone: Tz,
    clock: Clock,
    open: Mutex<Option<(NaiveDate, File)>>,
}

impl std::fmt::Debug for DailyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DailyFile({})", self.inner.dir.join(&self.inner.name).display())
    }
}

impl DailyFile {
    /// `dir/name`, rotated at midnight in `timezone`, kept `retention_days`.
    /// Creates the directory; fails when it cannot be written.
    pub fn new(dir: &Path, name: &str, retention_days: u32, timezone: Tz) -> std::io::Result<Self> {
        Self::with_clock(dir, name, retention_days, timezone, Arc::new(Utc::now))
    }

    /// Like [`DailyFile::new`], with a clock of the caller's.
    pub fn with_clock(
        dir: &Path,
        name: &str,
        retention_days: u32,
        timezone: Tz,
        clock: Clock,
    ) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let file = Self {
            inner: Arc::new(Inner {
                dir: dir.to_owned(),
                name: name.to_owned(),
                retention_days,
                timezone,
                clock,
                open: Mutex::new(None),
            }),
        };
        // Open now: a directory that cannot be written is a start-up error.
        let mut open = file.inner.open.lock().unwrap_or_else(|e| e.into_inner());
        file.inner.current(&mut open)?;
        drop(open);
        Ok(file)
    }

    /// The path of the file being written.
    pub fn path(&self) -> PathBuf {
        self.inner.dir.join(&self.inner.name)
    }
}

impl Inner {
    fn today(&self) -> NaiveDate {
        (self.clock)().with_timezone(&self.timezone).date_naive()
    }

    /// The open file for today, rotating yesterday's (or an older one
    /// found at start) first.
    fn current<'a>(&self, open: &'a mut Option<(NaiveDate, File)>) -> std::io::Result<&'a mut File> {
        let today = self.today();
        if open.as_ref().is_none_or(|(day, _)| *day != today) {
            let path = self.dir.join(&self.name);
            let written_on = match open.take() {
                Some((day, _)) => Some(day),
                // At start: the day an existing file was last written.
                None => std::fs::metadata(&path)
                    .and_then(|m| m.modified())
                    .ok()
                    .map(|t| DateTime::<Utc>::from(t).with_timezone(&self.timezone).date_naive()),
            };
            if let Some(day) = written_on.filter(|day| *day != today)
                && path.exists()
            {
                let rotated = self.dir.join(format!("{}.{day}", self.name));
                if rotated.exists() {
                    // Written again after a restart on the same old day: keep both.
                    let mut old = OpenOptions::new().append(true).open(&rotated)?;
                    old.write_all(&std::fs::read(&path)?)?;
                    std::fs::remove_file(&path)?;
                } else {
                    std::fs::rename(&path, &rotated)?;
                }
            }
            self.prune(today);
            let mut options = OpenOptions::new();
            options.create(true).append(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o640);
            *open = Some((today, options.open(&path)?));
        }
        match open {
            Some((_, file)) => Ok(file),
            None => Err(std::io::Error::other("the log file is not open")),
        }
    }

    /// Removes rotated files older than the retention.
    fn prune(&self, today: NaiveDate) {
        let oldest = today - Duration::days(i64::from(self.retention_days));
        let prefix = format!("{}.", self.name);
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(day) =
                name.strip_prefix(&prefix).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            else {
                continue;
            };
            if day < oldest {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

impl Write for &DailyFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut open = self.inner.open.lock().unwrap_or_else(|e| e.into_inner());
        self.inner.current(&mut open)?.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let mut open = self.inner.open.lock().unwrap_or_else(|e| e.into_inner());
        match open.as_mut() {
            Some((_, file)) => file.flush(),
            None => Ok(()),
        }
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for DailyFile {
    type Writer = &'a DailyFile;

    fn make_writer(&'a self) -> Self::Writer {
        self
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use std::sync::atomic::{AtomicI64, Ordering};

    use chrono::TimeZone;

    use super::*;

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn files_rotate_at_midnight_in_the_console_zone_and_old_ones_go() {
        let dir = tempfile::tempdir().unwrap();
        // 2026-12-01 23:30 in Tokyo.
        let start = Utc.with_ymd_and_hms(2026, 12, 1, 14, 30, 0).unwrap().timestamp();
        let offset = Arc::new(AtomicI64::new(0));
        let clock: Clock = {
            let offset = offset.clone();
            Arc::new(move || {
                Utc.timestamp_opt(start + offset.load(Ordering::SeqCst), 0).single().unwrap_or_default()
            })
        };
        let log = DailyFile::with_clock(dir.path(), "app.log", 90, chrono_tz::Asia::Tokyo, clock).unwrap();
        let mut writer = &log;
        writer.write_all(b"first day\n").unwrap();
        // 00:30 the next day in Tokyo (still 2026-12-01 in UTC): rotated.
        offset.store(3600, Ordering::SeqCst);
        writer.write_all(b"second day\n").unwrap();
        assert_eq!(listing(dir.path()), ["app.log", "app.log.2026-12-01"]);
        assert_eq!(std::fs::read_to_string(dir.path().join("app.log.2026-12-01")).unwrap(), "first day\n");
        assert_eq!(std::fs::read_to_string(dir.path().join("app.log")).unwrap(), "second day\n");

        // Every day for 100 days: only the last 90 rotated files stay.
        for day in 1..=100 {
            offset.store(3600 + day * 86_400, Ordering::SeqCst);
            writer.write_all(format!("day {day}\n").as_bytes()).unwrap();
        }
        let names = listing(dir.path());
        assert_eq!(names.len(), 1 + 90, "{names:?}");
        assert!(!names.contains(&"app.log.2026-12-01".to_owned()));
        // today 2027-03-12 (Tokyo); the oldest kept is 90 days before.
        assert_eq!(names[1], "app.log.2026-12-12");
        assert_eq!(std::fs::read_to_string(dir.path().join("app.log")).unwrap(), "day 100\n");
    }

    #[test]
    fn a_file_left_from_an_earlier_day_is_rotated_at_start() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("access.log"), b"old line\n").unwrap();
        let later: Clock = Arc::new(|| Utc::now() + Duration::days(3));
        let log = DailyFile::with_clock(dir.path(), "access.log", 90, chrono_tz::Asia::Tokyo, later).unwrap();
        let mut writer = &log;
        writer.write_all(b"new line\n").unwrap();
        let names = listing(dir.path());
        assert_eq!(names.len(), 2, "{names:?}");
        assert_eq!(std::fs::read_to_string(log.path()).unwrap(), "new line\n");
    }
}
