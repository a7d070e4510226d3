//! Backups of the console's own database: `backup-mgmt backup
//! create|list|verify|restore`, the daily backup at `backup_time`, and the
//! Settings → Backups page.
//!
//! SQLite is copied with `VACUUM INTO` (a consistent snapshot while the
//! console runs); PostgreSQL with `pg_dump --format=custom` (its major
//! version at least the server's). The copy is encrypted to the age public
//! key `backup_recipient` as it is written (the private key never needs
//! to be on the server; `age -d -i key.txt FILE > backup-mgmt.db`
//! decrypts it), its SHA-256 recorded in the database and beside the file
//! (`FILE.sha256`, as `sha256sum -c` reads it). Files older than
//! `backup_keep_days` are removed, never the newest good one.

use std::{
    io::{Read, Write},
    path::{Path, PathBuf},
    str::FromStr,
};

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use sha2::{Digest, Sha256};

use super::store::{self, BackupRow, NewBackup};
use crate::{
    error::AppError,
    model::{
        ops::{BackupsPage, ConsoleBackup},
        user::Role,
    },
    ssr::{
        accounts::{
            Access, RequestInfo,
            audit::{self, Event, Target},
        },
        infra::{
            db::{Backend, Db},
            settings::{Environment, Settings},
            state::AppState,
        },
        notify::{self, NewConsoleEvent, message::EventKind},
    },
};

/// The name of the daily backup's periodic task.
pub const TASK: &str = "console-backup";

/// How often the task looks whether the daily backup is due.
pub const INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// Backup files are named `backup-mgmt-<UTC time>.<kind>[.age]`.
const PREFIX: &str = "backup-mgmt-";
const STAMP: &str = "%Y%m%dT%H%M%SZ";
const AGE_MAGIC: &[u8] = b"age-encryption.org/v1\n";
const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
const PGDUMP_MAGIC: &[u8] = b"PGDMP";
/// The subject of the daily backup's console events.
const SUBJECT: &str = "backup:daily";
/// After a failed daily backup, the next try is this much later.
const RETRY_AFTER_MINUTES: i64 = 60;

/// What went wrong, in words for the person running the command.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BackupError(pub String);

impl BackupError {
    fn io(what: impl std::fmt::Display, error: std::io::Error) -> Self {
        Self(format!("{what}: {error}"))
    }
}

impl From<sqlx::Error> for BackupError {
    fn from(error: sqlx::Error) -> Self {
        Self(format!("database error: {error}"))
    }
}

/// Who asked for a backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The daily backup.
    Scheduled,
    /// `backup-mgmt backup create` or the Settings page.
    Manual,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Trigger::Scheduled => "scheduled",
            Trigger::Manual => "manual",
        }
    }
}

/// Checks a `backup_recipient` setting: an age X25519 public key.
pub fn check_recipient(recipient: &str) -> Result<(), String> {
    age::x25519::Recipient::from_str(recipient.trim()).map(|_| ()).map_err(|_| {
        format!(
            "`{recipient}` is not an age public key (age1…; `age-keygen -y key.txt` prints the one of a key)"
        )
    })
}

fn view(row: BackupRow, dir: &Path) -> ConsoleBackup {
    let present = row.file_name.as_deref().is_some_and(|name| dir.join(name).is_file());
    ConsoleBackup {
        id: row.id,
        file_name: row.file_name,
        trigger: row.trigger,
        backend: row.backend,
        encrypted: row.encrypted,
        status: row.status,
        size_bytes: row.size_bytes,
        sha256: row.sha256,
        error: row.error,
        started_at: row.started_at,
        finished_at: row.finished_at,
        present,
    }
}

/// The newest `limit` backups and attempts, newest first.
pub async fn list(db: &Db, settings: &Settings, limit: i64) -> Result<Vec<ConsoleBackup>, BackupError> {
    let rows = store::recent(db, limit).await?;
    Ok(rows.into_iter().map(|row| view(row, &settings.backup.dir)).collect())
}

/// Takes a backup now and records it (a failure too, with its reason).
pub async fn create(db: &Db, settings: &Settings, trigger: Trigger) -> Result<ConsoleBackup, BackupError> {
    let started_at = Utc::now();
    let backend = db.backend().as_str();
    let written = write_backup(db, settings, started_at).await;
    let finished_at = Utc::now();
    let (record, outcome) = match &written {
        Ok(file) => (
            NewBackup {
                file_name: Some(&file.name),
                trigger: trigger.as_str(),
                backend,
                encrypted: file.encrypted,
                status: "ok",
                size_bytes: Some(file.size),
                sha256: Some(&file.sha256),
                error: None,
                started_at,
                finished_at,
            },
            Ok(()),
        ),
        Err(error) => (
            NewBackup {
                file_name: None,
                trigger: trigger.as_str(),
                backend,
                encrypted: settings.backup.recipient.is_some(),
                status: "failed",
                size_bytes: None,
                sha256: None,
                error: Some(&error.0),
                started_at,
                finished_at,
            },
            Err(BackupError(error.0.clone())),
        ),
    };
    let id = store::insert(db, &record).await?;
    outcome?;
    let row = BackupRow {
        id,
        file_name: record.file_name.map(str::to_owned),
        trigger: record.trigger.to_owned(),
        backend: backend.to_owned(),
        encrypted: record.encrypted,
        status: "ok".to_owned(),
        size_bytes: record.size_bytes,
        sha256: record.sha256.map(str::to_owned),
        error: None,
        started_at,
        finished_at,
    };
    Ok(view(row, &settings.backup.dir))
}

/// A backup file written.
struct Written {
    name: String,
    size: i64,
    sha256: String,
    encrypted: bool,
}

fn recipient_of(settings: &Settings) -> Result<Option<age::x25519::Recipient>, BackupError> {
    match &settings.backup.recipient {
        Some(key) => age::x25519::Recipient::from_str(key.trim())
            .map(Some)
            .map_err(|_| BackupError(format!("backup_recipient `{key}` is not an age public key (age1…)"))),
        None if settings.environment == Environment::Production => Err(BackupError(
            "backup_recipient is not set: in production backups are encrypted; set BMS_BACKUP_RECIPIENT to an age \
             public key (age1…, from `age-keygen -o key.txt`; keep key.txt off this server)"
                .to_owned(),
        )),
        None => {
            tracing::warn!(
                "backup_recipient is not set: writing an UNENCRYPTED backup (development only; production refuses)"
            );
            Ok(None)
        }
    }
}

async fn write_backup(db: &Db, settings: &Settings, at: DateTime<Utc>) -> Result<Written, BackupError> {
    let recipient = recipient_of(settings)?;
    let dir = settings.backup.dir.clone();
    create_private_dir(&dir)?;
    let kind = match db.backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "pgdump",
    };
    let stem = format!("{PREFIX}{}.{kind}", at.format(STAMP));
    let name = if recipient.is_some() { format!("{stem}.age") } else { stem.clone() };
    let snapshot =
        dir.join(format!(".{stem}.{}-{}.tmp", std::process::id(), Utc::now().timestamp_subsec_nanos()));
    let target = dir.join(&name);
    let result = async {
        match db {
            Db::Sqlite(pool) => {
                let path = snapshot.to_string_lossy().into_owned();
                sqlx::query("vacuum into $1").bind(path).execute(pool).await.map_err(|e| {
                    BackupError(format!("cannot copy the SQLite database into {}: {e}", snapshot.display()))
                })?;
            }
            Db::Postgres(pool) => pg_dump(pool, settings, &snapshot).await?,
        }
        let (snapshot, target) = (snapshot.clone(), target.clone());
        tokio::task::spawn_blocking(move || seal(&snapshot, &target, recipient.as_ref()))
            .await
            .map_err(|e| BackupError(format!("the backup's writer stopped: {e}")))?
    }
    .await;
    let _ = std::fs::remove_file(&snapshot);
    let (size, sha256) = result?;
    Ok(Written { name, size, sha256, encrypted: settings.backup.recipient.is_some() })
}

fn create_private_dir(dir: &Path) -> Result<(), BackupError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| BackupError::io(format!("cannot create the backup directory {}", dir.display()), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

/// A writer that hashes and counts what goes through it.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Copies `snapshot` to `target`, encrypted when there is a recipient;
/// returns the file's size and SHA-256 and writes `target.sha256`.
fn seal(
    snapshot: &Path,
    target: &Path,
    recipient: Option<&age::x25519::Recipient>,
) -> Result<(i64, String), BackupError> {
    let write_err = |e| BackupError::io(format!("cannot write {}", target.display()), e);
    let mut input = std::fs::File::open(snapshot)
        .map_err(|e| BackupError::io(format!("cannot read the snapshot {}", snapshot.display()), e))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    // A file of that name (another backup in the same second) is never touched.
    let file = options.open(target).map_err(write_err)?;
    let written = write_sealed(&mut input, file, target, recipient);
    if written.is_err() {
        let _ = std::fs::remove_file(target);
        let _ = std::fs::remove_file(sidecar(target));
    }
    written
}

fn write_sealed(
    input: &mut std::fs::File,
    file: std::fs::File,
    target: &Path,
    recipient: Option<&age::x25519::Recipient>,
) -> Result<(i64, String), BackupError> {
    let write_err = |e| BackupError::io(format!("cannot write {}", target.display()), e);
    let mut out = Hashing { inner: std::io::BufWriter::new(file), hasher: Sha256::new(), written: 0 };
    match recipient {
        Some(recipient) => {
            let encryptor =
                age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
                    .map_err(|e| BackupError(format!("cannot encrypt: {e}")))?;
            let mut writer = encryptor.wrap_output(&mut out).map_err(write_err)?;
            std::io::copy(input, &mut writer).map_err(write_err)?;
            // Without finish() the file would be truncated.
            writer.finish().map_err(write_err)?;
        }
        None => {
            std::io::copy(input, &mut out).map_err(write_err)?;
        }
    }
    out.flush().map_err(write_err)?;
    let sha256 = format!("{:x}", out.hasher.finalize());
    let size = i64::try_from(out.written).unwrap_or(i64::MAX);
    let file = out.inner.into_inner().map_err(|e| write_err(e.into_error()))?;
    file.sync_all().map_err(write_err)?;
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    std::fs::write(sidecar(target), format!("{sha256}  {name}\n")).map_err(write_err)?;
    Ok((size, sha256))
}

fn sidecar(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".sha256");
    PathBuf::from(name)
}

/// The PostgreSQL URL without its password, and the password (for
/// `PGPASSWORD`, so it never shows in the process list).
fn pg_url(settings: &Settings) -> Result<(String, Option<String>), BackupError> {
    let mut url = url::Url::parse(settings.database_url.expose())
        .map_err(|_| BackupError("the database URL cannot be parsed".to_owned()))?;
    let password = url.password().map(percent_decode);
    let _ = url.set_password(None);
    Ok((url.to_string(), password))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The major version a PostgreSQL tool (`pg_dump`, `pg_restore`) reports.
async fn tool_major(tool: &str) -> Result<u32, BackupError> {
    let output = tokio::process::Command::new(tool).arg("--version").output().await.map_err(|e| {
        BackupError(format!(
            "cannot run {tool} ({e}): install the PostgreSQL client tools of the server's version \
             (Debian: apt-get install postgresql-client)"
        ))
    })?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.split_whitespace()
        .find_map(|word| word.split('.').next().and_then(|major| major.parse().ok()))
        .ok_or_else(|| BackupError(format!("cannot read {tool}'s version from `{}`", text.trim())))
}

async fn pg_dump(pool: &sqlx::PgPool, settings: &Settings, out: &Path) -> Result<(), BackupError> {
    let server: String = sqlx::query_scalar("show server_version_num").fetch_one(pool).await?;
    let server_major = server.trim().parse::<u32>().unwrap_or(0) / 10_000;
    let tool = tool_major("pg_dump").await?;
    if tool < server_major {
        return Err(BackupError(format!(
            "pg_dump {tool} cannot back up a PostgreSQL {server_major} server: install pg_dump {server_major} \
             (Debian: postgresql-client-{server_major}) and put it first on PATH"
        )));
    }
    let (url, password) = pg_url(settings)?;
    let mut command = tokio::process::Command::new("pg_dump");
    // A pass stopped at a lead change (or shutdown) stops its dump too.
    command.kill_on_drop(true);
    command
        .args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
        .arg(out)
        .arg("--dbname")
        .arg(&url);
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let output = command.output().await.map_err(|e| BackupError(format!("cannot run pg_dump: {e}")))?;
    if !output.status.success() {
        return Err(BackupError(format!(
            "pg_dump failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(())
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The file's size.
    pub size: u64,
    /// Its SHA-256.
    pub sha256: String,
    /// Whether it matched the recorded checksum (`None`: none recorded).
    pub checksum_matches: Option<bool>,
    /// Whether it is encrypted.
    pub encrypted: bool,
    /// What the contents are, when they could be read: the database's
    /// jobs and runs (SQLite), or the dump's table of contents (PostgreSQL).
    pub contents: Option<String>,
}

fn sha256_of(path: &Path) -> Result<(u64, String), BackupError> {
    let mut file = std::fs::File::open(path)
        .map_err(|e| BackupError::io(format!("cannot read {}", path.display()), e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 1 << 16];
    let mut size = 0;
    loop {
        let n =
            file.read(&mut buf).map_err(|e| BackupError::io(format!("cannot read {}", path.display()), e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, format!("{:x}", hasher.finalize())))
}

fn starts_with(path: &Path, magic: &[u8]) -> bool {
    let mut head = vec![0; magic.len()];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && head == magic
}

fn load_identities(identity: &Path) -> Result<Vec<Box<dyn age::Identity + Send + Sync>>, BackupError> {
    age::IdentityFile::from_file(identity.to_string_lossy().into_owned())
        .map_err(|e| BackupError::io(format!("cannot read the identity file {}", identity.display()), e))?
        .into_identities()
        .map_err(|e| BackupError(format!("cannot use the identity file {}: {e}", identity.display())))
}

/// Decrypts `file` into `output` (a private temporary file) with the
/// identities in `identity`.
fn decrypt(file: &Path, identity: &Path, output: &mut std::fs::File) -> Result<(), BackupError> {
    let identities = load_identities(identity)?;
    let input = std::fs::File::open(file)
        .map_err(|e| BackupError::io(format!("cannot read {}", file.display()), e))?;
    let decryptor = age::Decryptor::new(std::io::BufReader::new(input))
        .map_err(|e| BackupError(format!("{} is not a readable age file: {e}", file.display())))?;
    let mut reader =
        decryptor.decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity)).map_err(|e| {
            BackupError(format!("cannot decrypt {} with {}: {e}", file.display(), identity.display()))
        })?;
    std::io::copy(&mut reader, output).map_err(|e| {
        BackupError(format!("cannot decrypt {} (damaged or truncated?): {e}", file.display()))
    })?;
    output.sync_all().map_err(|e| BackupError::io("cannot write the decrypted copy", e))?;
    Ok(())
}

/// Opens a restored SQLite copy read-only and checks it.
async fn check_sqlite(path: &Path) -> Result<String, BackupError> {
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path).read_only(true);
    let mut connection = sqlx::ConnectOptions::connect(&options)
        .await
        .map_err(|e| BackupError(format!("{} is not a readable SQLite database: {e}", path.display())))?;
    let integrity: String = sqlx::query_scalar("pragma integrity_check")
        .fetch_one(&mut connection)
        .await
        .map_err(|e| BackupError(format!("{} is not a readable SQLite database: {e}", path.display())))?;
    if integrity != "ok" {
        return Err(BackupError(format!("the database in the backup is damaged: {integrity}")));
    }
    let counts: Result<(i64, i64), sqlx::Error> =
        sqlx::query_as("select (select count(*) from jobs), (select count(*) from runs)")
            .fetch_one(&mut connection)
            .await;
    let _ = sqlx::Connection::close(connection).await;
    let (jobs, runs) = counts.map_err(|e| BackupError(format!("not a backup of this console: {e}")))?;
    Ok(format!("SQLite database, integrity ok: {jobs} jobs, {runs} runs"))
}

async fn check_pgdump(path: &Path) -> Result<String, BackupError> {
    tool_major("pg_restore").await?;
    let output = tokio::process::Command::new("pg_restore")
        .arg("--list")
        .arg(path)
        .output()
        .await
        .map_err(|e| BackupError(format!("cannot run pg_restore: {e}")))?;
    if !output.status.success() {
        return Err(BackupError(format!(
            "pg_restore cannot read the dump: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let list = String::from_utf8_lossy(&output.stdout);
    let tables = list.lines().filter(|l| l.contains(" TABLE DATA ")).count();
    if !list.contains(" TABLE DATA public runs ") {
        return Err(BackupError("the dump holds no `runs` table: not a backup of this console".to_owned()));
    }
    Ok(format!("PostgreSQL custom-format dump: {tables} tables"))
}

async fn check_contents(plain: &Path) -> Result<String, BackupError> {
    if starts_with(plain, SQLITE_MAGIC) {
        check_sqlite(plain).await
    } else if starts_with(plain, PGDUMP_MAGIC) {
        check_pgdump(plain).await
    } else {
        Err(BackupError(format!("{} is neither a SQLite database nor a pg_dump file", plain.display())))
    }
}

/// A new private temporary file (random name, created exclusively, 0600)
/// in the directory of `beside`, removed when dropped.
fn temp_beside(beside: &Path) -> Result<tempfile::NamedTempFile, BackupError> {
    let dir = beside.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    tempfile::Builder::new()
        .prefix(".backup-mgmt-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| BackupError::io(format!("cannot make a temporary file in {}", dir.display()), e))
}

/// Checks a backup file: its SHA-256 against `FILE.sha256` (or the
/// database's record, when `db` is given), that an encrypted file is an
/// age file, and, when readable (not encrypted, or with the private key in
/// `identity`), that it holds a sound copy of the console's database.
pub async fn verify(db: Option<&Db>, file: &Path, identity: Option<&Path>) -> Result<Verified, BackupError> {
    let path = file.to_owned();
    let (size, sha256) = tokio::task::spawn_blocking(move || sha256_of(&path))
        .await
        .map_err(|e| BackupError(format!("cannot read {}: {e}", file.display())))??;
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let recorded = match std::fs::read_to_string(sidecar(file)) {
        Ok(text) => text.split_whitespace().next().map(str::to_owned),
        Err(_) => match db {
            Some(db) => store::checksum_of(db, &name).await?,
            None => None,
        },
    };
    let checksum_matches = recorded.as_ref().map(|r| r.eq_ignore_ascii_case(&sha256));
    if checksum_matches == Some(false) {
        return Err(BackupError(format!(
            "{} is damaged: its SHA-256 is {sha256}, the recorded one {}",
            file.display(),
            recorded.unwrap_or_default()
        )));
    }
    let encrypted = starts_with(file, AGE_MAGIC);
    let contents = if encrypted {
        match identity {
            Some(identity) => {
                let plain = plain_copy(file, Some(identity), file).await?;
                Some(check_contents(plain.path()).await?)
            }
            None => {
                let input = std::fs::File::open(file)
                    .map_err(|e| BackupError::io(format!("cannot read {}", file.display()), e))?;
                age::Decryptor::new(std::io::BufReader::new(input)).map_err(|e| {
                    BackupError(format!("{} is not a readable age file: {e}", file.display()))
                })?;
                None
            }
        }
    } else {
        Some(check_contents(file).await?)
    };
    Ok(Verified { size, sha256, checksum_matches, encrypted, contents })
}

/// The lock file a console holds on its SQLite database while it runs.
pub fn lock_path(database_file: &Path) -> PathBuf {
    let mut name = database_file.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// The SQLite database file of the settings, if SQLite.
pub fn sqlite_file(settings: &Settings) -> Option<PathBuf> {
    if settings.database_url.scheme() != "sqlite" {
        return None;
    }
    sqlx::sqlite::SqliteConnectOptions::from_str(settings.database_url.expose())
        .ok()
        .map(|o| o.get_filename().to_owned())
}

/// Takes the lock that says a console runs on this SQLite database (held
/// until the returned file is dropped). Fails when another process holds it.
pub fn lock_database(database_file: &Path) -> Result<std::fs::File, BackupError> {
    let path = lock_path(database_file);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::create_dir_all(dir);
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| BackupError::io(format!("cannot open the lock file {}", path.display()), e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(BackupError(format!(
            "a console is running on {} (it holds {}): stop it first (systemctl stop backup-mgmt, or Ctrl-C)",
            database_file.display(),
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(BackupError::io(format!("cannot lock {}", path.display()), e))
        }
    }
}

/// Restores `file` as the settings' database: into an empty database,
/// or over an existing one with `replace` (a SQLite file is kept beside as
/// `….before-restore-<time>`). Refuses while a console runs on it.
/// Encrypted files need the private key in `identity`. Returns what was restored.
pub async fn restore(
    settings: &Settings,
    file: &Path,
    identity: Option<&Path>,
    replace: bool,
) -> Result<String, BackupError> {
    let verified = verify(None, file, None).await?;
    if verified.encrypted && identity.is_none() {
        return Err(BackupError(format!(
            "{} is encrypted: give the age private key file with --identity (it is not kept on the server)",
            file.display()
        )));
    }
    match sqlite_file(settings) {
        Some(target) => restore_sqlite(file, identity, &target, replace).await,
        None => restore_postgres(settings, file, identity, replace).await,
    }
}

/// The backup's plain contents in a private temporary file beside `beside`
/// (decrypted with `identity` when the backup is encrypted).
async fn plain_copy(
    file: &Path,
    identity: Option<&Path>,
    beside: &Path,
) -> Result<tempfile::NamedTempFile, BackupError> {
    let mut plain = temp_beside(beside)?;
    let from = file.to_owned();
    let key = identity.map(Path::to_owned);
    let plain = tokio::task::spawn_blocking(move || {
        match key {
            Some(key) if starts_with(&from, AGE_MAGIC) => decrypt(&from, &key, plain.as_file_mut())?,
            _ => {
                let mut input = std::fs::File::open(&from)
                    .map_err(|e| BackupError::io(format!("cannot read {}", from.display()), e))?;
                std::io::copy(&mut input, plain.as_file_mut())
                    .map_err(|e| BackupError::io(format!("cannot copy {}", from.display()), e))?;
            }
        }
        Ok::<_, BackupError>(plain)
    })
    .await
    .map_err(|e| BackupError(format!("cannot read the backup: {e}")))??;
    Ok(plain)
}

async fn restore_sqlite(
    file: &Path,
    identity: Option<&Path>,
    target: &Path,
    replace: bool,
) -> Result<String, BackupError> {
    let _lock = lock_database(target)?;
    if target.exists() && !replace {
        return Err(BackupError(format!(
            "{} already holds a database: restore into an empty data directory, or add --replace \
             (the current database is kept beside it)",
            target.display()
        )));
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| BackupError::io(format!("cannot create {}", dir.display()), e))?;
    }
    let plain = plain_copy(file, identity, target).await?;
    if !starts_with(plain.path(), SQLITE_MAGIC) {
        return Err(BackupError(format!("{} is not a backup of a SQLite console", file.display())));
    }
    let contents = check_sqlite(plain.path()).await?;
    let mut kept = String::new();
    let mut moved: Vec<(PathBuf, PathBuf)> = Vec::new();
    if target.exists() {
        let stamp = Utc::now().format(STAMP);
        for suffix in ["", "-wal", "-shm"] {
            let from = PathBuf::from(format!("{}{suffix}", target.display()));
            if from.exists() {
                let to = PathBuf::from(format!("{}.before-restore-{stamp}{suffix}", target.display()));
                if let Err(e) = std::fs::rename(&from, &to) {
                    roll_back(&moved);
                    return Err(BackupError::io(format!("cannot move {} aside", from.display()), e));
                }
                moved.push((from.clone(), to.clone()));
                if suffix.is_empty() {
                    kept = format!("; the previous database is {}", to.display());
                }
            }
        }
    }
    if let Err(e) = plain.persist(target) {
        roll_back(&moved);
        return Err(BackupError::io(
            format!(
                "cannot put the restored database at {} (the previous one is back in place)",
                target.display()
            ),
            e.error,
        ));
    }
    Ok(format!("restored {} into {}: {contents}{kept}", file.display(), target.display()))
}

/// Puts files moved aside back where they were.
fn roll_back(moved: &[(PathBuf, PathBuf)]) {
    for (from, to) in moved.iter().rev() {
        let _ = std::fs::rename(to, from);
    }
}

async fn restore_postgres(
    settings: &Settings,
    file: &Path,
    identity: Option<&Path>,
    replace: bool,
) -> Result<String, BackupError> {
    let db = Db::connect(&settings.database_url).await.map_err(|e| BackupError(e.to_string()))?;
    let Db::Postgres(pool) = &db else {
        return Err(BackupError("the database URL is not a PostgreSQL one".to_owned()));
    };
    let consoles: i64 = sqlx::query_scalar(
        "select count(*) from pg_stat_activity where datname = current_database() \
         and application_name = $1 and pid <> pg_backend_pid()",
    )
    .bind(crate::ssr::infra::db::APPLICATION_NAME)
    .fetch_one(pool)
    .await?;
    let tables: i64 =
        sqlx::query_scalar("select count(*) from information_schema.tables where table_schema = 'public'")
            .fetch_one(pool)
            .await?;
    db.close().await;
    if consoles > 0 {
        return Err(BackupError(format!(
            "{consoles} console connection(s) are open on this database: stop every instance first \
             (systemctl stop backup-mgmt, or scale the deployment to 0)"
        )));
    }
    if tables > 0 && !replace {
        return Err(BackupError(
            "the database is not empty: restore into an empty database, or add --replace to drop and replace \
             its tables"
                .to_owned(),
        ));
    }
    let plain = plain_copy(file, identity, &std::env::temp_dir().join("x")).await?;
    if !starts_with(plain.path(), PGDUMP_MAGIC) {
        return Err(BackupError(format!("{} is not a backup of a PostgreSQL console", file.display())));
    }
    let contents = check_pgdump(plain.path()).await?;
    let (url, password) = pg_url(settings)?;
    let mut command = tokio::process::Command::new("pg_restore");
    command
        .args([
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
        ])
        .arg("--dbname")
        .arg(&url)
        .arg(plain.path());
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let output = command.output().await.map_err(|e| BackupError(format!("cannot run pg_restore: {e}")))?;
    if !output.status.success() {
        return Err(BackupError(format!(
            "pg_restore failed (nothing was changed): {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(format!("restored {} into {}: {contents}", file.display(), settings.database_url))
}

/// The time a backup file's name says it was taken.
fn taken_at(name: &str) -> Option<DateTime<Utc>> {
    let rest = name.strip_prefix(PREFIX)?;
    let stamp = rest.split('.').next()?;
    NaiveDateTime::parse_from_str(stamp, STAMP).ok().map(|t| Utc.from_utc_datetime(&t))
}

/// Removes backup files (and their `.sha256`) taken more than `keep_days`
/// before `now`, always keeping the newest. Returns the files removed.
pub fn prune_files(dir: &Path, keep_days: u32, now: DateTime<Utc>) -> Result<Vec<String>, BackupError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(BackupError::io(format!("cannot list {}", dir.display()), e)),
    };
    let mut files: Vec<(DateTime<Utc>, String)> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".sha256") {
                return None;
            }
            taken_at(&name).map(|at| (at, name))
        })
        .collect();
    files.sort();
    let newest = files.pop();
    let cutoff = now - Duration::days(i64::from(keep_days));
    let mut removed = Vec::new();
    for (at, name) in files {
        if at < cutoff {
            let path = dir.join(&name);
            std::fs::remove_file(&path)
                .map_err(|e| BackupError::io(format!("cannot remove {}", path.display()), e))?;
            let _ = std::fs::remove_file(sidecar(&path));
            removed.push(name);
        }
    }
    drop(newest);
    Ok(removed)
}

/// The latest daily backup time at or before `now`.
fn last_due(settings: &Settings, now: DateTime<Utc>) -> DateTime<Utc> {
    let tz = settings.timezone;
    let local = now.with_timezone(&tz);
    // A time that a clock change skips that day means the first minute after the gap.
    let at = |day: chrono::NaiveDate| {
        let local = day.and_time(settings.backup.time);
        (0..=180)
            .find_map(|minutes| tz.from_local_datetime(&(local + Duration::minutes(minutes))).earliest())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now)
    };
    let today = at(local.date_naive());
    if today <= now { today } else { at(local.date_naive() - Duration::days(1)) }
}

/// One pass of the daily backup: when the day's backup time has passed and
/// no daily backup was taken since, takes one (a failed one is tried again
/// an hour later); then removes files older than `backup_keep_days`. The
/// first failure raises `console_backup_failed`, the next success
/// `console_recovered`. Returns the backup taken, if one was tried; only
/// the database failing is an error (a failed backup is recorded and told,
/// not a failure of the task).
pub async fn daily_pass(
    state: &AppState,
    now: DateTime<Utc>,
) -> Result<Option<Result<ConsoleBackup, BackupError>>, BackupError> {
    let settings = &state.settings;
    let due = last_due(settings, now);
    let previous = store::last_scheduled(&state.db).await?;
    if let Some(last) = store::scheduled_since(&state.db, due).await? {
        let retry =
            last.status == "failed" && now - last.finished_at >= Duration::minutes(RETRY_AFTER_MINUTES);
        if !retry {
            return Ok(None);
        }
    }
    let outcome = create(&state.db, settings, Trigger::Scheduled).await;
    let failed_before = previous.as_ref().is_some_and(|p| p.status == "failed");
    let event = match &outcome {
        Err(error) => {
            tracing::error!(%error, "the console's daily backup failed");
            (!failed_before).then(|| (EventKind::ConsoleBackupFailed, Some(error.0.clone())))
        }
        Ok(_) if failed_before => Some((EventKind::ConsoleRecovered, None)),
        Ok(_) => None,
    };
    if let Some((kind, details)) = event {
        let event = NewConsoleEvent {
            kind,
            subject: SUBJECT.to_owned(),
            subject_name: "daily backup".to_owned(),
            details,
            channel_id: None,
            delivery_id: None,
            occurred_at: Utc::now(),
        };
        notify::outbox::record_console_event(state, &event).await?;
    }
    let dir = settings.backup.dir.clone();
    let keep = settings.backup.keep_days;
    // Old files go only beside a backup that worked.
    if outcome.is_ok() {
        match tokio::task::spawn_blocking(move || prune_files(&dir, keep, now)).await {
            Ok(Ok(removed)) if !removed.is_empty() => {
                tracing::info!(removed = removed.len(), "removed backups older than backup_keep_days");
            }
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::warn!(%error, "cannot remove old backups"),
            Err(error) => tracing::warn!(%error, "cannot remove old backups"),
        }
    }
    Ok(Some(outcome))
}

/// The Settings → Backups page (administrators): the newest backups,
/// the backup and retention settings, this instance's last retention pass.
pub async fn page(state: &AppState, info: &RequestInfo) -> Result<BackupsPage, AppError> {
    info.require(Role::Admin, Access::Read)?;
    let settings = &state.settings;
    let backups = list(&state.db, settings, 60).await.map_err(|e| {
        tracing::error!(error = %e, "cannot list the console's backups");
        AppError::Internal
    })?;
    let last = super::retention::last_pass(state);
    Ok(BackupsPage {
        backups,
        dir: settings.backup.dir.display().to_string(),
        recipient: settings.backup.recipient.clone(),
        time: settings.backup.time.format("%H:%M").to_string(),
        timezone: settings.timezone.name().to_owned(),
        keep_days: settings.backup.keep_days,
        refused: settings.backup.recipient.is_none() && settings.environment == Environment::Production,
        retention_runs_days: settings.retention.runs_days,
        retention_events_days: settings.retention.events_days,
        retention_audit_days: settings.retention.audit_days,
        last_prune_at: last.as_ref().and_then(|l| l.finished_at),
        last_prune_deleted: last
            .map(|l| l.runs + l.job_events + l.notifications + l.veeam + l.audit)
            .unwrap_or_default(),
        can_back_up: true,
    })
}

/// Takes a backup now (administrators), audited. A backup that cannot be
/// taken is recorded and answered with its reason.
pub async fn back_up_now(state: &AppState, info: &RequestInfo) -> Result<ConsoleBackup, AppError> {
    let principal = info.require(Role::Admin, Access::Write)?;
    let made = create(&state.db, &state.settings, Trigger::Manual).await;
    let (event, outcome) = match made {
        Ok(backup) => (
            Event::ok(
                "console.backup",
                Target::new("console_backup", backup.id, backup.file_name.clone().unwrap_or_default()),
            ),
            Ok(backup),
        ),
        Err(error) => {
            let mut event = Event::ok("console.backup", Target::default()).details(error.0.clone());
            event.success = false;
            (event, Err(AppError::Conflict { message: error.0 }))
        }
    };
    audit::record(state, info, Some(principal), event).await;
    outcome
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn names_carry_their_time() {
        let at = taken_at("backup-mgmt-20261204T030000Z.sqlite.age").unwrap();
        assert_eq!(at, Utc.with_ymd_and_hms(2026, 12, 4, 3, 0, 0).unwrap());
        assert_eq!(
            taken_at("backup-mgmt-20261204T030000Z.pgdump"),
            Some(Utc.with_ymd_and_hms(2026, 12, 4, 3, 0, 0).unwrap())
        );
        assert_eq!(taken_at("notes.txt"), None);
        assert_eq!(percent_decode("p%40ss%2Fword"), "p@ss/word");
    }

    #[test]
    fn old_files_go_and_the_newest_stays() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap();
        let name = |days: i64| format!("{PREFIX}{}.sqlite.age", (now - Duration::days(days)).format(STAMP));
        for days in [1, 10, 31, 45] {
            std::fs::write(dir.path().join(name(days)), b"x").unwrap();
            std::fs::write(sidecar(&dir.path().join(name(days))), b"x").unwrap();
        }
        std::fs::write(dir.path().join("unrelated.txt"), b"x").unwrap();
        let mut removed = prune_files(dir.path(), 30, now).unwrap();
        removed.sort();
        assert_eq!(removed, vec![name(45), name(31)]);
        assert!(dir.path().join(name(10)).exists() && dir.path().join("unrelated.txt").exists());
        assert!(!sidecar(&dir.path().join(name(31))).exists());
        // However old, the newest backup stays.
        let removed = prune_files(dir.path(), 0, now + Duration::days(400)).unwrap();
        assert_eq!(removed, vec![name(10)]);
        assert!(dir.path().join(name(1)).exists());
    }
}
