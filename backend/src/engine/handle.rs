//! The actor that owns the matching [`Engine`] and the cheap handle everyone else talks
//! to it through. It applies commands and answers; it persists nothing and knows no
//! feature, so the server state can hold it.

use matching_engine::{AcceptorBalance, Command, Engine, EngineError, Event};
use tokio::sync::{mpsc, oneshot};

use crate::db::now_ms;

/// Why a request to the engine failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineFailure {
    #[error("the matching engine refused the command: {0}")]
    Refused(#[from] EngineError),
    #[error("the matching engine task has stopped")]
    Stopped,
}

enum Request {
    Apply {
        command: Command,
        reply: oneshot::Sender<Result<Vec<Event>, EngineError>>,
    },
    Balance {
        acceptor: String,
        reply: oneshot::Sender<Option<AcceptorBalance>>,
    },
}

/// A cheap, cloneable handle to the engine task.
#[derive(Clone)]
pub struct EngineHandle {
    tx: mpsc::Sender<Request>,
}

impl EngineHandle {
    /// Starts the task that owns `engine`. It ends when every handle is dropped.
    pub fn spawn(mut engine: Engine) -> Self {
        let (tx, mut rx) = mpsc::channel::<Request>(4096);
        tokio::spawn(async move {
            while let Some(request) = rx.recv().await {
                match request {
                    Request::Apply { command, reply } => {
                        let _ = reply.send(engine.apply(command, now_ms()));
                    }
                    Request::Balance { acceptor, reply } => {
                        let _ = reply.send(engine.balance(&acceptor));
                    }
                }
            }
        });
        Self { tx }
    }

    /// Applies one command and returns what the engine did. Nothing is persisted here:
    /// use `AppState::notify_engine` unless the caller persists the events itself.
    pub async fn apply(&self, command: Command) -> Result<Vec<Event>, EngineFailure> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Request::Apply { command, reply })
            .await
            .map_err(|_| EngineFailure::Stopped)?;
        Ok(answer.await.map_err(|_| EngineFailure::Stopped)??)
    }

    /// The engine's view of an acceptor's liquidity (for diagnostics and tests).
    pub async fn balance(&self, acceptor: &str) -> Result<Option<AcceptorBalance>, EngineFailure> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Request::Balance {
                acceptor: acceptor.to_owned(),
                reply,
            })
            .await
            .map_err(|_| EngineFailure::Stopped)?;
        answer.await.map_err(|_| EngineFailure::Stopped)
    }
}
