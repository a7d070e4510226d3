//! `spawn_app()`: a console on 127.0.0.1:<random port> with its own database.

use std::sync::LazyLock;

use app::ssr::{
    db::test_support::{TestBackend, TestDb},
    settings::Settings,
    state::AppState,
};
use server::Application;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

/// `TEST_LOG=1` shows the server's logs.
static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var("TEST_LOG").is_ok() {
        server::telemetry::init(app::ssr::settings::LogFormat::Text, "debug");
    }
});

/// A running console.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// A client that keeps cookies and does not follow redirects.
    pub client: reqwest::Client,
    /// The server's state (database, settings).
    pub state: AppState,
    /// The one-time password of the first admin, if one was created.
    pub admin_password: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
    _db: TestDb,
}

impl TestApp {
    /// `GET {address}{path}`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.address)).send().await.unwrap()
    }

    /// Stops the server gracefully and returns what `run_until_stopped` returned.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.handle.take().unwrap().await.unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Settings for a test server on `listener`'s port and `db`.
pub fn test_settings(db: &TestDb, listener: &TcpListener) -> Settings {
    let port = listener.local_addr().unwrap().port();
    let mut settings = Settings::for_tests(std::env::temp_dir(), Some(db.url.clone()));
    settings.listen = ([127, 0, 0, 1], port).into();
    settings.base_url = format!("http://127.0.0.1:{port}/").parse().unwrap();
    settings
}

/// Starts a console on `backend`, or `None` when that backend is not
/// available (PostgreSQL without `TEST_POSTGRES_URL`).
pub async fn spawn_app(backend: TestBackend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// Like [`spawn_app`], letting the test adjust the settings first.
pub async fn spawn_app_with(backend: TestBackend, adjust: impl FnOnce(&mut Settings)) -> Option<TestApp> {
    LazyLock::force(&TRACING);
    let db = TestDb::new(backend).await?;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut settings = test_settings(&db, &listener);
    adjust(&mut settings);
    let address = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let application = Application::build_with_listener(settings, listener).await.unwrap();
    let state = application.state().clone();
    let admin_password = match application.first_admin() {
        app::ssr::bootstrap::FirstAdmin::CreatedWithOneTimePassword(p) => {
            Some(secrecy::ExposeSecret::expose_secret(p).to_owned())
        }
        _ => None,
    };
    let (tx, rx) = oneshot::channel();
    let handle = tokio::spawn(application.run_until_stopped(async {
        let _ = rx.await;
    }));
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Some(TestApp {
        address,
        client,
        state,
        admin_password,
        shutdown: Some(tx),
        handle: Some(handle),
        _db: db,
    })
}

/// Runs an async test body (`async fn(TestApp)`) against a console on
/// SQLite and, as a second test, on PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:path) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let app = $crate::helpers::spawn_app(app::ssr::db::test_support::TestBackend::Sqlite)
                    .await
                    .expect("SQLite is always available");
                $body(app).await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(app) =
                    $crate::helpers::spawn_app(app::ssr::db::test_support::TestBackend::Postgres).await
                {
                    $body(app).await;
                }
            }
        }
    };
}
