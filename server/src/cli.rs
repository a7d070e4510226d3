//! The `backup-mgmt` command line: `serve` (default), `migrate`,
//! `create-admin` and `check-config`.

use std::{
    io::{IsTerminal, Read},
    path::PathBuf,
};

use anyhow::{Context, bail};
use app::ssr::{
    accounts::bootstrap::{self, FirstAdmin, NewAdmin},
    infra::{db::Db, settings::Settings},
};
use clap::{Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};

use crate::{
    config,
    startup::Application,
    telemetry,
    veeam_sim::{SimConfig, Simulator},
};

const CONFIG_HELP: &str = "\
Configuration, lowest precedence first: built-in defaults, then the TOML file
given with --config (or BMS_CONFIG), then BMS_* environment variables. Keys:

  env             BMS_ENV             development (default) or production
  listen          BMS_LISTEN          address to bind, default 127.0.0.1:5000
  data_dir        BMS_DATA_DIR        data directory, default ./data
  database_url    BMS_DATABASE_URL    sqlite://PATH or postgres://USER:PASS@HOST/DB;
                                      default sqlite://<data_dir>/backup-mgmt.db
  base_url        BMS_BASE_URL        public URL of the console, default http://<listen>
  jwt_secret      BMS_JWT_SECRET      session signing secret, at least 32 bytes;
                                      required in production
  encryption_key  BMS_ENCRYPTION_KEY  key of secrets stored in the database (Veeam
                                      passwords): 32 bytes in base64 or a passphrase
                                      of 32+ characters; required in production
  admin_password  BMS_ADMIN_PASSWORD  password of the first admin (unattended installs)
  log_format      BMS_LOG_FORMAT      text (default) or json
  log_level       BMS_LOG_LEVEL       tracing filter, default info
  session_hours   BMS_SESSION_HOURS   sign-in lifetime without activity, default 12
  session_max_days  BMS_SESSION_MAX_DAYS
                                      longest a sign-in lasts however active,
                                      default 7
  login_rate_per_minute  BMS_LOGIN_RATE_PER_MINUTE
                                      sign-in attempts per minute per address and
                                      per username, default 5
  api_rate_per_minute    BMS_API_RATE_PER_MINUTE
                                      /api/v1 requests per minute per address,
                                      default 600, 0 for no limit
  trust_proxy     BMS_TRUST_PROXY     true: client address from X-Forwarded-For,
                                      the entry the trusted proxy appended
  trusted_proxy_hops  BMS_TRUSTED_PROXY_HOPS
                                      trusted proxies in front of the console,
                                      each appending to X-Forwarded-For, default 1
  allow_insecure_http  BMS_ALLOW_INSECURE_HTTP
                                      true: production mode with an http base URL
                                      (TLS ends at a proxy on the same host)
  timezone        BMS_TIMEZONE        IANA zone of schedules without one and of
                                      daily figures, default Asia/Tokyo
  monitor_interval_seconds  BMS_MONITOR_INTERVAL_SECONDS
                                      how often late/missed/overdue jobs are
                                      looked for, default 15
  notify_max_attempts  BMS_NOTIFY_MAX_ATTEMPTS
                                      tries of a notification before it is dead,
                                      default 12 (about 2.7 hours of retries)
  notify_timeout_seconds  BMS_NOTIFY_TIMEOUT_SECONDS
                                      time allowed for one send, default 20
  outbound_deny_private  BMS_OUTBOUND_DENY_PRIVATE
                                      true: webhooks, chat, Veeam and SMTP may not
                                      reach loopback or private addresses either
                                      (link-local and cloud metadata: never)
  calendar_japanese_holidays  BMS_CALENDAR_JAPANESE_HOLIDAYS
                                      false: Japanese public holidays are business
                                      days (weekends and closures stay closed),
                                      default true
  metrics_allow   BMS_METRICS_ALLOW   addresses or networks (comma-separated,
                                      e.g. 10.0.0.5,10.1.0.0/24) that may read
                                      /metrics without a token; default none
  log_dir         BMS_LOG_DIR         also write app.log, error.log (warnings and
                                      errors) and access.log there, rotated daily;
                                      default: stdout only
  log_retention_days  BMS_LOG_RETENTION_DAYS
                                      rotated log files kept this long; default 90
  backup_dir      BMS_BACKUP_DIR      where backups go; default <data_dir>/backups
  backup_recipient  BMS_BACKUP_RECIPIENT
                                      the age public key (age1...) backups are
                                      encrypted to; required in production
  backup_time     BMS_BACKUP_TIME     the daily backup, HH:MM in timezone; 03:00
  backup_keep_days  BMS_BACKUP_KEEP_DAYS
                                      backups kept this long (the newest always);
                                      default 30
  disk_low_percent  BMS_DISK_LOW_PERCENT
                                      console_disk_low below this share of free
                                      space on the data directory; default 10
  retention_runs_days    BMS_RETENTION_RUNS_DAYS
                                      successful runs older than this are deleted
                                      (their days stay in reports); default 400,
                                      0 keeps them
  retention_events_days  BMS_RETENTION_EVENTS_DAYS
                                      events, notification deliveries and space
                                      samples; default 400, 0 keeps them
  retention_audit_days   BMS_RETENTION_AUDIT_DAYS
                                      the audit log, failed and missed runs;
                                      default 1095 (3 years), 0 keeps them

An unknown key or BMS_ variable is an error that names it.";

/// The backup operations console: watches Veeam and any other backup tool,
/// alerts when a backup did not run, failed or is too old, and reports.
#[derive(Debug, Parser)]
#[command(name = "backup-mgmt", version, about, after_long_help = CONFIG_HELP)]
pub struct Cli {
    /// A TOML configuration file (keys as listed below).
    #[arg(long, global = true, env = "BMS_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web console and its background tasks (the default).
    ///
    /// Applies pending migrations first. On a database without users it
    /// creates the account `admin` and prints its one-time password once.
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Create an administrator account.
    ///
    /// The password is read from standard input with --password-stdin (and
    /// used as is), otherwise asked for at a terminal prompt. Leaving the
    /// prompt empty, or running without a terminal, generates a one-time
    /// password that is printed once and must be changed at first sign-in.
    CreateAdmin {
        /// Sign-in name: letters a-z, digits and . _ - @.
        #[arg(long)]
        username: String,
        /// Contact e-mail address.
        #[arg(long)]
        email: String,
        /// Read the password from standard input (the first line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Validate the configuration and connect to the database, then exit.
    CheckConfig,
    /// Run as a Windows service (the service control manager starts it;
    /// see docs/WINDOWS.md). Logs go to log_dir, or <data_dir>\logs.
    WindowsService,
    /// Back up the console's own database, list, verify or restore backups.
    ///
    /// Backups go to backup_dir, encrypted to the age public key
    /// backup_recipient (decrypt with `age -d -i key.txt FILE`), with their
    /// SHA-256 beside them in FILE.sha256. The console also takes one every
    /// day at backup_time and keeps them backup_keep_days.
    Backup {
        #[command(subcommand)]
        action: BackupAction,
    },
    /// Fill the database with realistic demo jobs and their run history.
    ///
    /// About 7 runs a day per job (a fifth hourly, three tenths every four
    /// hours, half nightly): 2,000 jobs over 365 days make about 5 million
    /// runs. Jobs are added to whatever the database already holds.
    DemoData {
        /// How many jobs to add.
        #[arg(long, default_value_t = 50)]
        jobs: usize,
        /// How many days of history.
        #[arg(long, default_value_t = 30)]
        days: i64,
        /// Random seed: the same seed gives the same data.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Run the console with a Veeam simulator attached (a demo).
    ///
    /// Starts `veeam-sim` over HTTPS on --sim-listen and the console as
    /// `serve` does, and registers the simulator as the Veeam server
    /// "Veeam simulator" (trusting its self-signed certificate), so the
    /// dashboard, job pages, actions and repositories fill up at once.
    Demo {
        /// Where the simulator listens.
        #[arg(long, default_value = "127.0.0.1:9419")]
        sim_listen: std::net::SocketAddr,
        /// Simulated Veeam jobs.
        #[arg(long, default_value_t = 30)]
        jobs: usize,
        /// Days of simulated history.
        #[arg(long, default_value_t = 14)]
        history_days: u32,
        /// Simulated seconds per real second.
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
    },
    /// Run a Veeam Backup & Replication REST API simulator.
    ///
    /// Serves the part of VBR's REST API the console uses (token, serverTime,
    /// serverInfo, jobs with schedules, jobs/states, job
    /// start/stop/retry/enable/disable, sessions, repositories/states,
    /// backups, backupObjects, restorePoints, malwareDetection/events,
    /// configBackup, license) with Veeam's paths, envelopes, errors and the
    /// enum spelling of the requested revision, over HTTPS with a
    /// self-signed certificate unless --plain-http. Jobs run on their
    /// schedules on the simulator's clock. Faults and the clock are
    /// controlled with `POST /sim/faults` (JSON: latency_ms, fail_next,
    /// drop_next, token_expires_after, revoke_tokens, oversized_pages,
    /// unknown_enum_values, unscheduled_jobs, skipped_jobs, stale_machines,
    /// malware_machines, config_backup_age_days, config_backup_disabled,
    /// license_expires_in_days, license_forbidden) and `POST /sim/advance`
    /// (JSON: seconds); `GET /sim/stats` counts sessions and restore points.
    VeeamSim {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:9419")]
        listen: std::net::SocketAddr,
        /// Newest API revision served: 1.2-rev1 (VBR 12.3) or 1.3-rev2 (VBR 13.1).
        #[arg(long, default_value = "1.3-rev2", value_parser = ["1.2-rev1", "1.3-rev2"])]
        api_version: String,
        /// Backup jobs.
        #[arg(long, default_value_t = 20)]
        jobs: usize,
        /// Days of session history at start (one session per job and day).
        #[arg(long, default_value_t = 14)]
        history_days: u32,
        /// Random seed: the same seed gives the same jobs and history.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Account name.
        #[arg(long, default_value = "administrator")]
        username: String,
        /// Account password.
        #[arg(long, default_value = "simulator")]
        password: String,
        /// Serve plain HTTP instead of HTTPS.
        #[arg(long)]
        plain_http: bool,
        /// Simulated seconds per real second (0 freezes the clock).
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// Minutes a job started from the API runs.
        #[arg(long, default_value_t = 2)]
        run_minutes: i64,
        /// Jobs do not start on their schedules after the history (only when started through the API).
        #[arg(long)]
        no_schedules: bool,
        /// Protected machines per job (each successful run makes one restore point per machine).
        #[arg(long, default_value_t = 3)]
        machines_per_job: usize,
        /// Mix schedule kinds (weekdays, every 4 hours, after another job, monthly) instead of all daily.
        #[arg(long)]
        schedule_kinds: bool,
        /// Write the self-signed certificate (PEM) here, to trust it in the console.
        #[arg(long, value_name = "PATH")]
        cert_out: Option<PathBuf>,
    },
}

/// What `backup-mgmt backup` does.
#[derive(Debug, clap::Subcommand)]
pub enum BackupAction {
    /// Take a backup now (the console may keep running).
    Create,
    /// List the backups recorded in the database, newest first.
    List,
    /// Check a backup file: its checksum, and with --identity (or when not
    /// encrypted) that it holds a sound copy of the database.
    Verify {
        /// The backup file.
        file: PathBuf,
        /// The age private key file (as `age-keygen` writes it).
        #[arg(long, value_name = "KEY_FILE")]
        identity: Option<PathBuf>,
    },
    /// Restore a backup as the configured database. The console must be
    /// stopped; the database must be empty unless --replace.
    Restore {
        /// The backup file.
        file: PathBuf,
        /// The age private key file (as `age-keygen` writes it).
        #[arg(long, value_name = "KEY_FILE")]
        identity: Option<PathBuf>,
        /// Replace a database that is not empty (SQLite: the old file is kept beside it).
        #[arg(long)]
        replace: bool,
    },
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(Command::VeeamSim {
        listen,
        api_version,
        jobs,
        history_days,
        seed,
        username,
        password,
        plain_http,
        speed,
        run_minutes,
        no_schedules,
        machines_per_job,
        schedule_kinds,
        cert_out,
    }) = cli.command
    {
        let config = SimConfig {
            api_version,
            jobs,
            history_days,
            seed,
            username,
            password,
            speed: speed.max(0.0),
            run_minutes,
            schedules: !no_schedules,
            machines_per_job,
            schedule_kinds,
            ..SimConfig::default()
        };
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let sim = Simulator::start(config, listener, plain_http).await?;
        if let (Some(path), Some(pem)) = (&cert_out, &sim.certificate_pem) {
            std::fs::write(path, pem).with_context(|| format!("cannot write {}", path.display()))?;
        }
        println!("Veeam simulator listening on {} (user administrator unless --username)", sim.base_url);
        tokio::select! {
            _ = telemetry::shutdown_signal() => {}
            _ = sim.wait() => {}
        }
        return Ok(());
    }
    let settings = config::load(cli.config.as_deref(), std::env::vars())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::WindowsService => bail!(
            "windows-service is for the Windows service control manager (sc.exe create ... binPath= \"... windows-service\"): see docs/WINDOWS.md"
        ),
        Command::Migrate => {
            let db = open_db(&settings).await?;
            println!("migrations applied to the {} database", db.backend().as_str());
            db.close().await;
            Ok(())
        }
        Command::CreateAdmin { username, email, password_stdin } => {
            let password = read_password(password_stdin)?;
            let db = open_db(&settings).await?;
            let result =
                bootstrap::create_admin(&db, NewAdmin { username: username.clone(), email, password }).await;
            db.close().await;
            match result? {
                Some(one_time) => print_one_time_password(&username, &one_time, &settings),
                None => println!("administrator `{}` created", username.trim().to_lowercase()),
            }
            Ok(())
        }
        Command::DemoData { jobs, days, seed } => {
            if !(1..=3650).contains(&days) {
                bail!("--days must be from 1 to 3650");
            }
            let db = open_db(&settings).await?;
            let started = std::time::Instant::now();
            let spec = app::ssr::jobs::demo::DemoSpec { jobs, days, seed };
            let outcome = app::ssr::jobs::demo::generate(&db, settings.timezone, &spec).await?;
            db.close().await;
            println!(
                "added {} jobs and {} runs in {:.1} s",
                outcome.jobs,
                outcome.runs,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::VeeamSim { .. } => unreachable!("handled above"),
        Command::Demo { sim_listen, jobs, history_days, speed } => {
            demo(
                settings,
                sim_listen,
                SimConfig { jobs, history_days, speed: speed.max(0.0), ..SimConfig::default() },
            )
            .await
        }
        Command::Backup { action } => backup(&settings, action).await,
        Command::CheckConfig => {
            println!("{settings:#?}");
            let db = open_db(&settings).await?;
            let ok = db.ping().await;
            db.close().await;
            if !ok {
                bail!("the database at {} does not answer", settings.database_url);
            }
            println!("configuration OK; the {} database answers", db.backend().as_str());
            Ok(())
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    serve_until(settings, telemetry::shutdown_signal()).await
}

/// Runs the console until `shutdown` resolves (a signal, or the Windows
/// service control manager's stop).
pub async fn serve_until(
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    telemetry::init(&settings)?;
    let app = Application::build(settings).await?;
    if let FirstAdmin::CreatedWithOneTimePassword(password) = app.first_admin() {
        print_one_time_password(bootstrap::FIRST_ADMIN_USERNAME, password, app.settings());
    }
    tracing::info!(address = %app.address(), "the console is listening");
    app.run_until_stopped(shutdown).await
}

async fn demo(settings: Settings, sim_listen: std::net::SocketAddr, config: SimConfig) -> anyhow::Result<()> {
    telemetry::init(&settings)?;
    let listener = tokio::net::TcpListener::bind(sim_listen)
        .await
        .with_context(|| format!("cannot listen on {sim_listen} for the simulator"))?;
    let sim = Simulator::start(config.clone(), listener, false).await?;
    let app = Application::build(settings).await?;
    if let FirstAdmin::CreatedWithOneTimePassword(password) = app.first_admin() {
        print_one_time_password(bootstrap::FIRST_ADMIN_USERNAME, password, app.settings());
    }
    app::ssr::veeam::attach_demo_server(
        app.state(),
        "Veeam simulator",
        &sim.base_url,
        &config.username,
        &config.password,
        sim.certificate_pem.as_deref(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot add the simulator as a Veeam server: {e}"))?;
    println!(
        "Demo: the console is on {} with the Veeam simulator at {} (jobs {}, {} days of history).",
        app.settings().base_url,
        sim.base_url,
        config.jobs,
        config.history_days
    );
    tracing::info!(address = %app.address(), "the console is listening");
    app.run_until_stopped(telemetry::shutdown_signal()).await
}

async fn backup(settings: &Settings, action: BackupAction) -> anyhow::Result<()> {
    use app::ssr::ops::backup;
    match action {
        BackupAction::Create => {
            let db = open_db(settings).await?;
            let made = backup::create(&db, settings, backup::Trigger::Manual).await;
            db.close().await;
            let made = made?;
            let file = settings.backup.dir.join(made.file_name.unwrap_or_default());
            println!(
                "backup written: {} ({} bytes, {}encrypted, sha256 {})",
                file.display(),
                made.size_bytes.unwrap_or_default(),
                if made.encrypted { "" } else { "NOT " },
                made.sha256.unwrap_or_default()
            );
        }
        BackupAction::List => {
            let db = open_db(settings).await?;
            let list = backup::list(&db, settings, 100).await;
            db.close().await;
            let list = list?;
            if list.is_empty() {
                println!("no backups yet: `backup-mgmt backup create` takes one");
            }
            for b in list {
                println!(
                    "{}  {:<9}  {:<6}  {:>12}  {}{}",
                    b.started_at.format("%Y-%m-%d %H:%M:%SZ"),
                    b.trigger,
                    b.status,
                    b.size_bytes.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                    b.file_name
                        .as_deref()
                        .map(|f| settings.backup.dir.join(f).display().to_string())
                        .unwrap_or_default(),
                    match (&b.error, b.present) {
                        (Some(error), _) => format!("  error: {error}"),
                        (None, false) => "  (file removed)".to_owned(),
                        (None, true) => String::new(),
                    }
                );
            }
        }
        BackupAction::Verify { file, identity } => {
            let db = Db::connect(&settings.database_url).await.ok();
            let verified = backup::verify(db.as_ref(), &file, identity.as_deref()).await;
            if let Some(db) = db {
                db.close().await;
            }
            let v = verified?;
            println!("{}: {} bytes, sha256 {}", file.display(), v.size, v.sha256);
            println!(
                "checksum: {}",
                match v.checksum_matches {
                    Some(true) => "matches the recorded one",
                    _ => "none recorded (no .sha256 file beside it)",
                }
            );
            println!("encrypted: {}", if v.encrypted { "yes (age)" } else { "no" });
            match v.contents {
                Some(contents) => println!("contents: {contents}"),
                None => println!("contents: not checked (encrypted; give --identity KEY_FILE to check them)"),
            }
        }
        BackupAction::Restore { file, identity, replace } => {
            let done = backup::restore(settings, &file, identity.as_deref(), replace).await?;
            println!("{done}");
            println!("start the console again; pending migrations are applied at start");
        }
    }
    Ok(())
}

async fn open_db(settings: &Settings) -> anyhow::Result<Db> {
    let db = Db::connect(&settings.database_url).await?;
    db.migrate().await?;
    Ok(db)
}

fn read_password(from_stdin: bool) -> anyhow::Result<Option<SecretString>> {
    if from_stdin {
        let mut input = String::new();
        std::io::stdin()
            .read_to_string(&mut input)
            .context("cannot read the password from standard input")?;
        let line = input.lines().next().unwrap_or_default().to_owned();
        if line.is_empty() {
            bail!("--password-stdin was given but standard input held no password");
        }
        return Ok(Some(SecretString::from(line)));
    }
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let first = rpassword::prompt_password("Password (empty for a one-time password): ")
        .context("cannot read the password")?;
    if first.is_empty() {
        return Ok(None);
    }
    let second = rpassword::prompt_password("Repeat the password: ").context("cannot read the password")?;
    if first != second {
        bail!("the two passwords differ");
    }
    Ok(Some(SecretString::from(first)))
}

/// Prints a one-time password to the console, once. It goes to standard
/// output rather than the log, so log collectors never see it.
fn print_one_time_password(username: &str, password: &SecretString, settings: &Settings) {
    let rule = "=".repeat(72);
    println!(
        "{rule}\n  Administrator account created\n    username:          {username}\n    one-time password: {}\n  \
         Sign in at {} and choose a new password.\n  This password is shown only once.\n{rule}",
        password.expose_secret(),
        settings.base_url,
    );
}
