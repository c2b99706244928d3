use std::collections::{HashMap, HashSet};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::*;

fn hash(n: u64) -> Hash {
    let mut h = [0u8; 32];
    h[..8].copy_from_slice(&n.to_be_bytes());
    h
}

fn transfer(tx: u64) -> Transfer {
    Transfer {
        txid: hash(1_000_000 + tx),
        log_index: 0,
        from: [9; 20],
        to: [7; 20],
        value: 5_000_000,
    }
}

fn block(number: u64, id: u64, parent: u64, transfers: Vec<Transfer>) -> Block {
    Block {
        number,
        hash: hash(id),
        parent: hash(parent),
        transfers,
    }
}

fn confirmed(steps: &[Step]) -> Vec<(Hash, u64)> {
    steps
        .iter()
        .filter_map(|s| match s {
            Step::Confirmed { transfer, .. } => Some(transfer.key()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_transfer_is_credited_at_its_confirmations_and_not_before() {
    let mut f = Follower::new(3, 16);
    f.on_block(block(0, 100, 0, vec![])).unwrap();
    let steps = f.on_block(block(1, 101, 100, vec![transfer(1)])).unwrap();
    assert_eq!(
        steps,
        [Step::Pending {
            transfer: transfer(1),
            block: 1,
            confirmations: 1
        }]
    );
    let steps = f.on_block(block(2, 102, 101, vec![])).unwrap();
    assert!(matches!(
        steps[..],
        [Step::Pending {
            confirmations: 2,
            ..
        }]
    ));
    let steps = f.on_block(block(3, 103, 102, vec![])).unwrap();
    assert_eq!(confirmed(&steps), [transfer(1).key()]);
    assert!(f.on_block(block(4, 104, 103, vec![])).unwrap().is_empty());
}

#[test]
fn a_reorg_before_the_confirmations_credits_nothing() {
    let mut f = Follower::new(3, 16);
    f.on_block(block(0, 100, 0, vec![])).unwrap();
    f.on_block(block(1, 101, 100, vec![transfer(1)])).unwrap();
    f.on_block(block(2, 102, 101, vec![])).unwrap();
    // Block 1 is replaced by one without the transfer.
    let steps = f.on_block(block(1, 201, 100, vec![])).unwrap();
    assert_eq!(
        steps,
        [Step::Dropped {
            transfer: transfer(1),
            block: 1
        }]
    );
    for n in 2..8 {
        let steps = f.on_block(block(n, 200 + n, 199 + n, vec![])).unwrap();
        assert!(confirmed(&steps).is_empty());
    }
}

#[test]
fn a_credited_transfer_whose_block_vanishes_is_reported_and_never_credited_again() {
    let mut f = Follower::new(2, 16);
    f.on_block(block(0, 100, 0, vec![])).unwrap();
    f.on_block(block(1, 101, 100, vec![transfer(1)])).unwrap();
    let steps = f.on_block(block(2, 102, 101, vec![])).unwrap();
    assert_eq!(confirmed(&steps), [transfer(1).key()]);
    // A reorg deeper than the confirmations: blocks 1 and 2 go.
    let steps = f.on_block(block(1, 201, 100, vec![])).unwrap();
    assert!(steps.contains(&Step::Vanished {
        transfer: transfer(1),
        block: 1
    }));
    // The new branch carries the same transfer: it is known, not credited twice.
    for n in 2..6 {
        let with = if n == 2 { vec![transfer(1)] } else { vec![] };
        let steps = f.on_block(block(n, 200 + n, 199 + n, with)).unwrap();
        assert!(confirmed(&steps).is_empty(), "{steps:?}");
    }
}

#[test]
fn a_fork_below_the_tip_is_walked_down_to() {
    let mut f = Follower::new(2, 16);
    for n in 0..5 {
        f.on_block(block(n, 100 + n, 99 + n, vec![])).unwrap();
    }
    // The node's new branch forks after block 2: its block 4 does not follow our 3.
    assert_eq!(
        f.on_block(block(4, 304, 303, vec![])),
        Err(FollowError::ParentMismatch { height: 3 })
    );
    f.on_block(block(3, 303, 102, vec![])).unwrap();
    f.on_block(block(4, 304, 303, vec![])).unwrap();
    assert_eq!(f.tip(), Some(4));
    assert_eq!(
        f.on_block(block(9, 309, 308, vec![])),
        Err(FollowError::Gap { tip: 4, got: 9 })
    );
}

#[test]
fn a_reorg_below_the_window_is_refused() {
    let mut f = Follower::new(2, 4);
    for n in 0..10 {
        f.on_block(block(n, 100 + n, 99 + n, vec![])).unwrap();
    }
    assert!(matches!(
        f.on_block(block(5, 505, 504, vec![])),
        Err(FollowError::TooDeep { .. })
    ));
}

/// The node's view: a chain that grows and now and then reorganises.
struct Node {
    chain: Vec<Block>,
    next_id: u64,
    next_tx: u64,
}

impl Node {
    fn new() -> Self {
        Self {
            chain: vec![block(0, 1, 0, vec![])],
            next_id: 2,
            next_tx: 1,
        }
    }

    fn push(&mut self, rng: &mut StdRng, replay: &[Transfer]) {
        let parent = self.chain.last().unwrap();
        let mut transfers = Vec::new();
        for _ in 0..rng.random_range(0..3u32) {
            transfers.push(transfer(self.next_tx));
            self.next_tx += 1;
        }
        // A reorganised transfer may be mined again, in another block — once: a chain
        // carries a transaction at most once.
        if let Some(t) = replay.get(rng.random_range(0..replay.len().max(1) * 3)) {
            let carried = self
                .chain
                .iter()
                .any(|b| b.transfers.iter().any(|c| c.key() == t.key()));
            if !carried {
                transfers.push(t.clone());
            }
        }
        let b = block(parent.number + 1, self.next_id, 0, transfers);
        self.next_id += 1;
        self.chain.push(Block {
            parent: parent.hash,
            ..b
        });
    }
}

/// Feeds the follower up to the node's tip the way the watcher does: from the block
/// after its tip (or the node's tip, to see a reorg that did not lengthen the chain),
/// walking down on a parent mismatch.
fn sync(f: &mut Follower, node: &Node, confirmations: u32, steps: &mut Vec<Step>) {
    let node_tip = node.chain.len() as u64 - 1;
    let mut h = f.tip().map_or(0, |t| t + 1).min(node_tip);
    while h <= node_tip {
        match f.on_block(node.chain[h as usize].clone()) {
            Ok(s) => {
                for step in &s {
                    if let Step::Confirmed { block, .. } = step {
                        assert!(h - block + 1 >= u64::from(confirmations), "credited early");
                    }
                }
                steps.extend(s);
                h += 1;
            }
            Err(FollowError::ParentMismatch { height }) => h = height,
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn random_forks_credit_each_buried_transfer_exactly_once() {
    for seed in 0..40 {
        let mut rng = StdRng::seed_from_u64(seed);
        let confirmations = rng.random_range(1..6u32);
        // A window of 16 keeps pruning at work; reorgs stay shallower than it.
        let mut f = Follower::new(confirmations, 16);
        let mut node = Node::new();
        let mut steps = Vec::new();
        let mut dropped: Vec<Transfer> = Vec::new();
        for _ in 0..300 {
            if rng.random_bool(0.15) && node.chain.len() > 8 {
                let depth = rng.random_range(1..8usize);
                node.chain.truncate(node.chain.len() - depth);
                for _ in 0..=depth {
                    node.push(&mut rng, &dropped);
                }
            } else {
                node.push(&mut rng, &dropped);
            }
            let before = steps.len();
            sync(&mut f, &node, confirmations, &mut steps);
            for s in &steps[before..] {
                if let Step::Dropped { transfer, .. } | Step::Vanished { transfer, .. } = s {
                    dropped.push(transfer.clone());
                }
            }
        }

        let credited = confirmed(&steps);
        let unique: HashSet<_> = credited.iter().collect();
        assert_eq!(
            unique.len(),
            credited.len(),
            "seed {seed}: a transfer credited twice"
        );

        // Everything buried deep enough in the final chain is credited.
        let tip = node.chain.len() as u64 - 1;
        let final_keys: HashMap<(Hash, u64), u64> = node
            .chain
            .iter()
            .flat_map(|b| b.transfers.iter().map(move |t| (t.key(), b.number)))
            .collect();
        for (key, at) in &final_keys {
            if tip - at + 1 >= u64::from(confirmations) {
                assert!(unique.contains(key), "seed {seed}: buried but not credited");
            }
        }
        // A credit the final chain does not carry was reported as vanished.
        let vanished: HashSet<_> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Vanished { transfer, .. } => Some(transfer.key()),
                _ => None,
            })
            .collect();
        for key in &credited {
            assert!(
                final_keys.contains_key(key) || vanished.contains(key),
                "seed {seed}: a credit disappeared without an alert"
            );
        }
    }
}

#[test]
fn a_follower_restored_from_its_json_continues_where_it_stopped() {
    let mut f = Follower::new(3, 16);
    f.on_block(block(0, 100, 0, vec![])).unwrap();
    f.on_block(block(1, 101, 100, vec![transfer(1)])).unwrap();
    f.on_block(block(2, 102, 101, vec![])).unwrap();
    let json = f.to_json().unwrap();
    let mut restored = Follower::from_json(3, 16, &json).unwrap();
    assert_eq!(restored.tip(), Some(2));
    // Confirmed once, by the restored follower, at the third block.
    let steps = restored.on_block(block(3, 103, 102, vec![])).unwrap();
    assert_eq!(confirmed(&steps), vec![transfer(1).key()]);
    // A reorg under the restored tip is still recognised: the credit vanishes.
    let steps = restored.on_block(block(1, 201, 100, vec![])).unwrap();
    assert!(matches!(steps[..], [Step::Vanished { block: 1, .. }]));
}
