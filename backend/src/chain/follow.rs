//! The confirmation and reorg rule, as a deterministic state machine.
//!
//! A [`Follower`] is fed the canonical chain one block at a time — each block with its
//! parent's hash and the USDT transfers to our addresses in it — and says what became
//! of each transfer:
//!
//! - a transfer in block `b` has `tip − b + 1` confirmations; it is
//!   [`Step::Pending`] until it has the configured number, then [`Step::Confirmed`]
//!   once: the caller credits it, exactly once per (txid, log index);
//! - a block whose parent is not the block we hold at that height means the chain
//!   reorganised: the blocks above the fork point are undone. A transfer that was
//!   pending in them is [`Step::Dropped`] (never credited; if the new branch carries
//!   it again, it is pending again from its new block). A transfer already credited
//!   whose block is undone is [`Step::Vanished`]: the reorg went deeper than the
//!   confirmations. Its credit stands and it is never credited again; the caller
//!   raises an admin alert and lists it for review.
//!
//! It holds the last `window` block hashes; a reorg deeper than that cannot be
//! followed ([`FollowError::TooDeep`]), the caller stops and alerts. It does no I/O:
//! the watcher reads blocks and logs from the node and hands them over; the tests
//! drive it through random forks.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// A block hash.
pub type Hash = [u8; 32];

/// A transfer as a log of the chain reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Transfer {
    pub txid: Hash,
    pub log_index: u64,
    /// The sending account.
    pub from: [u8; 20],
    /// The receiving account (20 bytes, as both EVM and TRON hold it).
    pub to: [u8; 20],
    /// Token base units.
    pub value: u128,
}

impl Transfer {
    /// What a transfer is credited under, once.
    pub fn key(&self) -> (Hash, u64) {
        (self.txid, self.log_index)
    }
}

/// A block of the canonical chain with our transfers in it.
#[derive(Debug, Clone)]
pub struct Block {
    pub number: u64,
    pub hash: Hash,
    pub parent: Hash,
    pub transfers: Vec<Transfer>,
}

/// What became of a transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Pending {
        transfer: Transfer,
        block: u64,
        confirmations: u64,
    },
    Confirmed {
        transfer: Transfer,
        block: u64,
    },
    Dropped {
        transfer: Transfer,
        block: u64,
    },
    Vanished {
        transfer: Transfer,
        block: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FollowError {
    #[error("block {got} does not follow the tip {tip}")]
    Gap { tip: u64, got: u64 },
    #[error("the block below does not match: feed the canonical block {height} first")]
    ParentMismatch { height: u64 },
    #[error("the chain reorganised below the {window} blocks held")]
    TooDeep { window: usize },
}

/// [`Follower`]'s state as stored (JSON has no tuple keys).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Stored {
    hashes: Vec<(u64, Hash)>,
    in_block: Vec<(u64, Vec<Transfer>)>,
    credited: Vec<((Hash, u64), u64)>,
    vanished: Vec<(Hash, u64)>,
}

/// Follows one network's chain.
#[derive(Debug, Clone)]
pub struct Follower {
    confirmations: u64,
    window: usize,
    /// The canonical hashes held, by height.
    hashes: BTreeMap<u64, Hash>,
    /// Transfers in held blocks, by height (pending and credited alike).
    in_block: BTreeMap<u64, Vec<Transfer>>,
    /// Transfers credited, at the height of the block that carries them, while that
    /// block is in the window.
    credited: HashMap<(Hash, u64), u64>,
    /// Credited transfers whose block was undone and that no held block carries now:
    /// kept until one does (a transaction may be mined again much later), never
    /// credited again.
    vanished: HashSet<(Hash, u64)>,
}

impl Follower {
    /// `confirmations` ≥ 1; `window` blocks of history are held (it must exceed the
    /// confirmations, or a credited transfer could not be seen to vanish).
    pub fn new(confirmations: u32, window: usize) -> Self {
        let confirmations = u64::from(confirmations.max(1));
        Self {
            confirmations,
            window: window
                .max(usize::try_from(confirmations).map_or(usize::MAX, |c| c.saturating_add(1))),
            hashes: BTreeMap::new(),
            in_block: BTreeMap::new(),
            credited: HashMap::new(),
            vanished: HashSet::new(),
        }
    }

    /// The state to keep between scans (the watcher stores it with its cursor).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(&Stored {
            hashes: self.hashes.iter().map(|(n, h)| (*n, *h)).collect(),
            in_block: self.in_block.iter().map(|(n, t)| (*n, t.clone())).collect(),
            credited: self.credited.iter().map(|(k, at)| (*k, *at)).collect(),
            vanished: self.vanished.iter().copied().collect(),
        })
    }

    /// A follower in the state [`Follower::to_json`] kept, with the current settings.
    pub fn from_json(
        confirmations: u32,
        window: usize,
        json: &str,
    ) -> Result<Self, serde_json::Error> {
        let stored: Stored = serde_json::from_str(json)?;
        let mut follower = Self::new(confirmations, window);
        follower.hashes = stored.hashes.into_iter().collect();
        follower.in_block = stored.in_block.into_iter().collect();
        follower.credited = stored.credited.into_iter().collect();
        follower.vanished = stored.vanished.into_iter().collect();
        follower.forget_old();
        Ok(follower)
    }

    /// The highest block held.
    pub fn tip(&self) -> Option<u64> {
        self.hashes.keys().next_back().copied()
    }

    /// Takes the next block of the canonical chain: the one after the tip, or one at or
    /// below it on another branch (a reorg). Its parent must be the block held below
    /// it: when it is not, the fork is lower, and the caller feeds the canonical block
    /// at [`FollowError::ParentMismatch`]'s height first, walking down to the fork.
    pub fn on_block(&mut self, block: Block) -> Result<Vec<Step>, FollowError> {
        let mut steps = Vec::new();
        let Some(tip) = self.tip() else {
            self.accept(block, &mut steps);
            return Ok(steps);
        };
        if block.number > tip + 1 {
            return Err(FollowError::Gap {
                tip,
                got: block.number,
            });
        }
        if self.hashes.get(&block.number) == Some(&block.hash) {
            return Ok(steps); // a block we hold, fed again
        }
        let below = block.number.checked_sub(1);
        match below.map(|p| (p, self.hashes.get(&p))) {
            Some((p, Some(held))) if *held != block.parent => {
                return Err(FollowError::ParentMismatch { height: p });
            }
            Some((_, None)) | None if block.number <= tip => {
                return Err(FollowError::TooDeep {
                    window: self.window,
                });
            }
            _ => {}
        }
        if block.number <= tip {
            self.undo_from(block.number, &mut steps);
        }
        self.accept(block, &mut steps);
        self.forget_old();
        Ok(steps)
    }

    /// Undoes the held blocks at `height` and above.
    fn undo_from(&mut self, height: u64, steps: &mut Vec<Step>) {
        let undone: Vec<u64> = self.hashes.range(height..).map(|(h, _)| *h).collect();
        for number in undone.into_iter().rev() {
            self.hashes.remove(&number);
            for transfer in self.in_block.remove(&number).unwrap_or_default() {
                let step = if self.credited.get(&transfer.key()) == Some(&number) {
                    self.credited.remove(&transfer.key());
                    self.vanished.insert(transfer.key());
                    Step::Vanished {
                        transfer,
                        block: number,
                    }
                } else {
                    Step::Dropped {
                        transfer,
                        block: number,
                    }
                };
                steps.push(step);
            }
        }
    }

    fn accept(&mut self, block: Block, steps: &mut Vec<Step>) {
        let number = block.number;
        self.hashes.insert(number, block.hash);
        let mut seen = BTreeSet::new();
        let fresh: Vec<Transfer> = block
            .transfers
            .into_iter()
            .filter(|t| seen.insert(t.key()))
            .collect();
        self.in_block.insert(number, fresh);
        // Every held transfer not yet credited gains a confirmation. One credited
        // before (on a branch since undone) is not credited again; it is remembered at
        // the block that now carries it.
        for (&at, transfers) in &self.in_block {
            let confirmations = number - at + 1;
            for transfer in transfers {
                if self.vanished.remove(&transfer.key()) {
                    self.credited.insert(transfer.key(), at);
                }
                if self.credited.contains_key(&transfer.key()) {
                    continue;
                }
                if confirmations >= self.confirmations {
                    self.credited.insert(transfer.key(), at);
                    steps.push(Step::Confirmed {
                        transfer: transfer.clone(),
                        block: at,
                    });
                } else {
                    steps.push(Step::Pending {
                        transfer: transfer.clone(),
                        block: at,
                        confirmations,
                    });
                }
            }
        }
    }

    /// Keeps `window` blocks, and the credits of those blocks only: a credit below the
    /// window can no longer be undone here (a reorg that deep is `TooDeep`), and the
    /// database's unique (network, txid, log index) stays the last guard.
    fn forget_old(&mut self) {
        while self.hashes.len() > self.window {
            if let Some((&oldest, _)) = self.hashes.iter().next() {
                self.hashes.remove(&oldest);
                self.in_block.remove(&oldest);
            }
        }
        if let Some(&oldest) = self.hashes.keys().next() {
            self.credited.retain(|_, at| *at >= oldest);
        }
    }
}

#[cfg(test)]
mod tests;
