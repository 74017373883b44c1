//! The agentgate HTTP gateway: SuperOffice's `POST /api/v1/Agents/User/ChangeOwnPassword`
//! for legacy XML clients, browsers and JSON API consumers, on actix-web.
//!
//! This crate is the glue: it reads requests with [`agentgate_codec`], decides how to answer
//! with [`agentgate_negotiation`], and changes passwords with [`agentgate_accounts`]. HTTP
//! status codes live here and only here ([`ApiError::status_code`]).
//!
//! You will notably *not* find body parsing, header grammar or password hashing here: those
//! are the three library crates' business.
//!
//! ```no_run
//! use actix_web::{App, HttpServer, web};
//! use agentgate_accounts::{Accounts, Config};
//! use agentgate_server::{AppState, Settings, configure};
//!
//! # async fn run() -> std::io::Result<()> {
//! let accounts = Accounts::open("sqlite://agentgate.db", Config::default()).await.unwrap();
//! let state = web::Data::new(AppState::new(accounts, Settings::default(), None).unwrap());
//! HttpServer::new(move || App::new().app_data(state.clone()).configure(configure))
//!     .bind("127.0.0.1:8080")?
//!     .run()
//!     .await
//! # }
//! ```

mod app;
mod change;
pub mod cli;
mod credential;
mod error;
mod front;
pub(crate) mod i18n;
mod metrics;
mod openapi;
mod pages;
mod respond;
mod rest;
mod soap;
mod state;
mod upstream;

pub use app::configure;
pub use error::ApiError;
pub use metrics::install_recorder;
pub use state::{AppState, Settings, UpstreamSettings};
pub use upstream::Error as UpstreamError;
