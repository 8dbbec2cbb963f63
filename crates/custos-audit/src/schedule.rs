//! When to sign a checkpoint: a policy the binary's timer consults
//! (`AuditLog::checkpoint_due`); the library keeps no clock of its own.

use serde::{Deserialize, Serialize};

/// Checkpoint every `every_entries` new entries or every `every_secs`
/// seconds, whichever comes first; 0 disables that trigger. Never due when
/// no entry was appended since the last checkpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointPolicy {
    pub every_entries: u64,
    pub every_secs: u64,
}

impl CheckpointPolicy {
    /// Whether a checkpoint is due, given the entries appended since the
    /// last checkpoint and the seconds since the last scheduled one (`None`
    /// when unknown, e.g. after a restart: then due, erring on the side of
    /// checkpointing early).
    pub fn is_due(&self, entries_since_last: u64, secs_since_last: Option<u64>) -> bool {
        if entries_since_last == 0 {
            return false;
        }
        let by_count = self.every_entries > 0 && entries_since_last >= self.every_entries;
        let by_time =
            self.every_secs > 0 && secs_since_last.is_none_or(|secs| secs >= self.every_secs);
        by_count || by_time
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(policy: (u64, u64), entries: u64, secs: Option<u64>, expect: bool) {
        let policy = CheckpointPolicy {
            every_entries: policy.0,
            every_secs: policy.1,
        };
        assert_eq!(
            policy.is_due(entries, secs),
            expect,
            "{policy:?} {entries} {secs:?}"
        );
    }

    #[test]
    fn due_by_count_or_by_time_but_never_for_nothing_new() {
        check((0, 0), 1_000_000, None, false);
        check((100, 0), 99, None, false);
        check((100, 0), 100, None, true);
        check((0, 60), 1, Some(59), false);
        check((0, 60), 1, Some(60), true);
        check((0, 60), 1, None, true);
        check((0, 60), 0, Some(3_600), false);
        check((100, 60), 100, Some(0), true);
        check((100, 60), 5, Some(61), true);
        check((100, 60), 5, Some(10), false);
    }
}
