//! `backup-mgmt windows-service`: the console as a Windows service. The
//! service control manager starts the binary; the dispatcher calls
//! [`service_main`] on its own thread, which reports `Running`, serves
//! until the manager sends Stop or Shutdown, and reports `Stopped` with an
//! exit code. Settings come from the `--config` file given in the
//! service's command line and from `BMS_*` environment variables (set for
//! the service in the registry; see docs/WINDOWS.md). Without a
//! `log_dir`, logs go to `<data_dir>\logs` (a service has no console).

use std::{
    ffi::OsString,
    path::PathBuf,
    sync::{Mutex, OnceLock},
    time::Duration,
};

use anyhow::Context;
use windows_service::{
    define_windows_service,
    service::{
        ServiceControl, ServiceControlAccept, ServiceExitCode, ServiceState, ServiceStatus, ServiceType,
    },
    service_control_handler::{self, ServiceControlHandlerResult},
    service_dispatcher,
};

use crate::config;

/// The service's name, as `sc.exe create` registers it.
pub const SERVICE_NAME: &str = "backup-mgmt";

/// The `--config` file of the service's command line.
static CONFIG: OnceLock<Option<PathBuf>> = OnceLock::new();

define_windows_service!(ffi_service_main, service_main);

/// Hands this thread to the service control manager until the service stops.
pub fn run(config_file: Option<PathBuf>) -> anyhow::Result<()> {
    let _ = CONFIG.set(config_file);
    service_dispatcher::start(SERVICE_NAME, ffi_service_main)
        .context("not started by the service control manager (use `backup-mgmt serve` at a prompt)")
}

fn service_main(_arguments: Vec<OsString>) {
    if let Err(error) = run_service() {
        // Nowhere else to say it: the log is not set up when settings fail.
        eprintln!("error: {error:#}");
    }
}

fn status(state: ServiceState, accept: ServiceControlAccept, exit: u32) -> ServiceStatus {
    ServiceStatus {
        service_type: ServiceType::OWN_PROCESS,
        current_state: state,
        controls_accepted: accept,
        exit_code: ServiceExitCode::Win32(exit),
        checkpoint: 0,
        wait_hint: Duration::from_secs(if state == ServiceState::StopPending { 15 } else { 0 }),
        process_id: None,
    }
}

fn run_service() -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let stop = Mutex::new(Some(stop_tx));
    let handler = move |control| match control {
        ServiceControl::Stop | ServiceControl::Shutdown => {
            if let Some(tx) = stop.lock().unwrap_or_else(|e| e.into_inner()).take() {
                let _ = tx.send(());
            }
            ServiceControlHandlerResult::NoError
        }
        ServiceControl::Interrogate => ServiceControlHandlerResult::NoError,
        _ => ServiceControlHandlerResult::NotImplemented,
    };
    let handle = service_control_handler::register(SERVICE_NAME, handler)?;
    handle.set_service_status(status(
        ServiceState::Running,
        ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN,
        0,
    ))?;
    let served = (|| -> anyhow::Result<()> {
        let file = CONFIG.get().cloned().flatten();
        let mut settings = config::load(file.as_deref(), std::env::vars())?;
        if settings.log_dir.is_none() {
            settings.log_dir = Some(settings.data_dir.join("logs"));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        runtime.block_on(crate::cli::serve_until(settings, async move {
            let _ = stop_rx.await;
            tracing::info!("the service control manager asked the console to stop");
        }))
    })();
    handle.set_service_status(status(
        ServiceState::Stopped,
        ServiceControlAccept::empty(),
        if served.is_ok() { 0 } else { 1 },
    ))?;
    served
}
