//! `spawn_app()`: a console on 127.0.0.1:<random port> with its own database.

use std::sync::LazyLock;

use app::ssr::infra::{
    db::test_support::{TestBackend, TestDb},
    settings::Settings,
    state::AppState,
};
use server::Application;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

/// `TEST_LOG=1` shows the server's logs.
static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var("TEST_LOG").is_ok() {
        let mut settings = Settings::for_tests(std::env::temp_dir(), None);
        settings.log_level = "debug".to_owned();
        server::telemetry::init(&settings).unwrap();
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
    db: Option<TestDb>,
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

    /// Stops the server gracefully, runs `while_down` on its database (as
    /// if time passed while the console was down) and starts a new server
    /// on the same database, on a new port.
    pub async fn restart(mut self, while_down: impl AsyncFnOnce(&app::ssr::infra::db::Db)) -> TestApp {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.handle.take().unwrap().await.unwrap().unwrap();
        let db = self.db.take().unwrap();
        while_down(&db.db).await;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let settings = test_settings(&db, &listener);
        start(db, settings, listener).await
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
    // Backups taken through the API (the RBAC walk) go beside the test's files.
    settings.backup.dir = std::env::temp_dir().join(format!("bms-test-backups-{port}"));
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
    Some(start(db, settings, listener).await)
}

/// Starts a console with `settings` on `listener` and `db`.
async fn start(db: TestDb, settings: Settings, listener: TcpListener) -> TestApp {
    let address = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let application = Application::build_with_listener(settings, listener).await.unwrap();
    let state = application.state().clone();
    let admin_password = match application.first_admin() {
        app::ssr::accounts::bootstrap::FirstAdmin::CreatedWithOneTimePassword(p) => {
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
    TestApp { address, client, state, admin_password, shutdown: Some(tx), handle: Some(handle), db: Some(db) }
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
                let app = $crate::helpers::spawn_app(app::ssr::infra::db::test_support::TestBackend::Sqlite)
                    .await
                    .expect("SQLite is always available");
                $body(app).await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(app) =
                    $crate::helpers::spawn_app(app::ssr::infra::db::test_support::TestBackend::Postgres).await
                {
                    $body(app).await;
                }
            }
        }
    };
}

/// A user created by a test, with a known password.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// Id.
    pub id: i64,
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
}

/// The password every test user gets.
pub const TEST_PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    /// Creates a user with `role` and [`TEST_PASSWORD`] (no forced change).
    pub async fn add_user(&self, role: app::model::user::Role) -> TestUser {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let username = format!("{}{}", role.as_str(), NEXT.fetch_add(1, Ordering::Relaxed));
        let hash =
            app::ssr::accounts::password::hash(secrecy::SecretString::from(TEST_PASSWORD)).await.unwrap();
        let id = app::ssr::accounts::store::users::create(
            &self.state.db,
            &app::ssr::accounts::store::users::NewUser {
                username: &username,
                email: "test@example.co.jp",
                password_hash: &hash,
                role: role.as_str(),
                locale: "en",
                must_change_password: false,
                password_expires_at: None,
            },
        )
        .await
        .unwrap();
        TestUser { id, username, password: TEST_PASSWORD.to_owned() }
    }

    /// A client that behaves like a browser: keeps cookies, sends `Origin`,
    /// asks for HTML, does not follow redirects.
    pub fn browser(&self) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::ORIGIN, self.address.parse().unwrap());
        reqwest::Client::builder()
            .cookie_store(true)
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// Signs `user` in through the login server function, as the login page does.
    pub async fn sign_in(&self, client: &reqwest::Client, user: &TestUser) -> reqwest::Response {
        client
            .post(format!("{}/api/fn/auth/login", self.address))
            .form(&[("username", user.username.as_str()), ("password", user.password.as_str())])
            .send()
            .await
            .unwrap()
    }

    /// A browser client signed in as `user`.
    pub async fn browser_as(&self, user: &TestUser) -> reqwest::Client {
        let client = self.browser();
        let response = self.sign_in(&client, user).await;
        assert!(response.status().is_success(), "sign-in as {} failed: {}", user.username, response.status());
        client
    }

    /// A bearer JWT for `user` from `POST /api/v1/auth/login`.
    pub async fn bearer(&self, user: &TestUser) -> String {
        let response = self
            .client
            .post(format!("{}/api/v1/auth/login", self.address))
            .json(&serde_json::json!({ "username": user.username, "password": user.password }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::OK, "API login as {}", user.username);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["token_type"], "Bearer");
        body["token"].as_str().unwrap().to_owned()
    }

    /// `method path` with an optional bearer token and JSON body.
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> reqwest::Response {
        let mut request = self.client.request(method, format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }
}
