//! The plan and the report as text tables, for a terminal: counts first, then entries.

use std::fmt;

use super::apply::{Applied, ApplyReport};
use super::entry::Plan;

/// Cuts `text` to `width` characters (with `…`), so one long value cannot break the table.
fn cell(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

impl fmt::Display for Plan {
    /// The counts, then one line per entry that is not `unchanged` (their number is in the
    /// counts): action, person (input position), key, external id, account, and why.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.counts;
        writeln!(
            f,
            "plan for {}: {} people, {} accounts ({} managed, {} not managed, {} managed and already inactive)",
            self.app, c.people, c.accounts, c.managed, c.unmanaged, c.inactive_not_in_hr
        )?;
        let rows = [
            ("create", c.create),
            ("update", c.update),
            ("reactivate", c.reactivate),
            ("deactivate", c.deactivate),
            ("unchanged", c.unchanged),
            ("conflict", c.conflict),
        ];
        for (label, count) in rows {
            writeln!(f, "  {label:<12}{count:>8}")?;
        }
        let shown: Vec<_> = self.entries.iter().filter(|e| e.action.name() != "unchanged").collect();
        if shown.is_empty() {
            return write!(f, "no changes");
        }
        write!(f, "\n{:<11} {:>7}  {:<32} {:<12} {:<32} detail", "action", "person", "key", "external id", "account")?;
        for entry in shown {
            let person = entry.index().map_or_else(|| "-".to_string(), |i| format!("#{i}"));
            write!(
                f,
                "\n{:<11} {:>7}  {:<32} {:<12} {:<32} {}",
                entry.action.name(),
                person,
                cell(entry.key().unwrap_or("-"), 32),
                cell(entry.external_id().unwrap_or("-"), 12),
                cell(entry.account().unwrap_or("-"), 32),
                cell(&entry.action.detail(), 120),
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for ApplyReport {
    /// The counts, then one line per entry that failed or was skipped (by its position in the
    /// plan; errors mask e-mail addresses).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.counts;
        let rows = [
            ("created", c.created),
            ("updated", c.updated),
            ("reactivated", c.reactivated),
            ("deactivated", c.deactivated),
            ("unchanged", c.unchanged),
            ("skipped", c.skipped),
            ("needs review", c.needs_review),
            ("failed", c.failed),
        ];
        write!(f, "{:<14}{:>8}", "outcome", "entries")?;
        for (label, count) in rows {
            write!(f, "\n{label:<14}{count:>8}")?;
        }
        for result in &self.results {
            match &result.result {
                Err(error) => write!(f, "\n  entry {} ({}): failed: {error}", result.entry, result.action)?,
                Ok(Applied::Skipped(reason)) => {
                    write!(f, "\n  entry {} ({}): skipped: {reason:?}; plan again", result.entry, result.action)?
                }
                Ok(_) => {}
            }
        }
        Ok(())
    }
}
