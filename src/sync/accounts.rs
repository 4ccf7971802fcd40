//! The listed accounts as planning keeps them: in columns, one text buffer and one fingerprint
//! buffer for all of them, so 100,000 accounts cost a handful of allocations instead of five each
//! (which, besides their own size, would scatter small blocks the allocator cannot give back).

/// No entry has claimed the account.
const UNCLAIMED: u32 = u32::MAX;
const ACTIVE: u8 = 1;
const IN_SCOPE: u8 = 2;
const HAS_KEY: u8 = 4;
const HAS_EXTERNAL_ID: u8 = 8;

/// One account: where its text and fingerprints sit in the shared buffers, and its flags.
struct Row {
    /// The id starts here in `Accounts::text`; the key follows it, then the external id.
    text: usize,
    id_len: u32,
    key_len: u32,
    external_id_len: u32,
    /// The fingerprints start here in `Accounts::prints`.
    prints: usize,
    prints_len: u32,
    /// Identity, attributes and version as listed, to notice a change before a deactivation.
    digest: u64,
    claimed: u32,
    flags: u8,
}

/// What one listed account is, for [`Accounts::push`].
pub(super) struct NewAccount<'a> {
    pub(super) id: &'a str,
    pub(super) key: Option<&'a str>,
    pub(super) external_id: Option<&'a str>,
    pub(super) prints: &'a [u64],
    pub(super) digest: u64,
    pub(super) active: bool,
    pub(super) in_scope: bool,
}

/// Every listed account, by position (`u32`, as the indexes hold it).
#[derive(Default)]
pub(super) struct Accounts {
    text: String,
    prints: Vec<u64>,
    rows: Vec<Row>,
}

/// A length as stored; text longer than 4 GiB cannot come from one response.
fn len32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

impl Accounts {
    /// Adds an account; returns its position.
    pub(super) fn push(&mut self, account: NewAccount<'_>) -> u32 {
        let position = len32(self.rows.len());
        let text = self.text.len();
        let key = account.key.unwrap_or_default();
        let external_id = account.external_id.unwrap_or_default();
        for part in [account.id, key, external_id] {
            self.text.push_str(part);
        }
        let prints = self.prints.len();
        self.prints.extend_from_slice(account.prints);
        let mut flags = 0;
        for (set, flag) in [
            (account.active, ACTIVE),
            (account.in_scope, IN_SCOPE),
            (account.key.is_some(), HAS_KEY),
            (account.external_id.is_some(), HAS_EXTERNAL_ID),
        ] {
            if set {
                flags |= flag;
            }
        }
        self.rows.push(Row {
            text,
            id_len: len32(account.id.len()),
            key_len: len32(key.len()),
            external_id_len: len32(external_id.len()),
            prints,
            prints_len: len32(account.prints.len()),
            digest: account.digest,
            claimed: UNCLAIMED,
            flags,
        });
        position
    }

    /// Frees the room the buffers grew beyond what they hold, once every account is in.
    pub(super) fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.prints.shrink_to_fit();
        self.rows.shrink_to_fit();
    }

    pub(super) fn len(&self) -> usize {
        self.rows.len()
    }

    fn row(&self, account: u32) -> &Row {
        &self.rows[account as usize]
    }

    fn text(&self, start: usize, len: u32) -> &str {
        self.text.get(start..start + len as usize).unwrap_or_default()
    }

    pub(super) fn id(&self, account: u32) -> &str {
        let row = self.row(account);
        self.text(row.text, row.id_len)
    }

    /// The normalised match key, unless the account has none or an entry released it.
    pub(super) fn key(&self, account: u32) -> Option<&str> {
        let row = self.row(account);
        (row.flags & HAS_KEY != 0).then(|| self.text(row.text + row.id_len as usize, row.key_len))
    }

    /// The external id, unless the account has none or an entry released it.
    pub(super) fn external_id(&self, account: u32) -> Option<&str> {
        let row = self.row(account);
        let start = row.text + row.id_len as usize + row.key_len as usize;
        (row.flags & HAS_EXTERNAL_ID != 0).then(|| self.text(start, row.external_id_len))
    }

    /// The sorted attribute fingerprints (empty once an entry claimed the account).
    pub(super) fn prints(&self, account: u32) -> &[u64] {
        let row = self.row(account);
        self.prints.get(row.prints..row.prints + row.prints_len as usize).unwrap_or_default()
    }

    /// The account as listed (see [`account_digest`](super::fingerprint::account_digest)).
    pub(super) fn digest(&self, account: u32) -> u64 {
        self.row(account).digest
    }

    pub(super) fn active(&self, account: u32) -> bool {
        self.row(account).flags & ACTIVE != 0
    }

    pub(super) fn in_scope(&self, account: u32) -> bool {
        self.row(account).flags & IN_SCOPE != 0
    }

    /// The entry that matched the account, if any.
    pub(super) fn claimed(&self, account: u32) -> Option<u32> {
        Some(self.row(account).claimed).filter(|c| *c != UNCLAIMED)
    }

    pub(super) fn claim(&mut self, account: u32, entry: u32) {
        self.rows[account as usize].claimed = entry;
    }

    /// Forgets the key, so no later person matches the account by it.
    pub(super) fn release_key(&mut self, account: u32) {
        self.rows[account as usize].flags &= !HAS_KEY;
    }

    /// Forgets the external id, so no later person matches the account by it.
    pub(super) fn release_external_id(&mut self, account: u32) {
        self.rows[account as usize].flags &= !HAS_EXTERNAL_ID;
    }

    /// Forgets the fingerprints (compared once; the buffer keeps their room).
    pub(super) fn release_prints(&mut self, account: u32) {
        self.rows[account as usize].prints_len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_account_reads_back_what_went_in_and_releases_only_its_own_parts() {
        let mut accounts = Accounts::default();
        let a = accounts.push(NewAccount {
            id: "id-1",
            key: Some("jane@example.com"),
            external_id: Some("E1"),
            prints: &[1, 2, 3],
            digest: 9,
            active: true,
            in_scope: false,
        });
        let b = accounts.push(NewAccount {
            id: "2",
            key: None,
            external_id: None,
            prints: &[],
            digest: 0,
            active: false,
            in_scope: true,
        });
        assert_eq!((a, b, accounts.len()), (0, 1, 2));
        assert_eq!(
            (accounts.id(a), accounts.key(a), accounts.external_id(a)),
            ("id-1", Some("jane@example.com"), Some("E1"))
        );
        assert_eq!(accounts.prints(a), [1, 2, 3]);
        assert_eq!((accounts.active(a), accounts.in_scope(a), accounts.digest(a)), (true, false, 9));
        assert_eq!((accounts.id(b), accounts.key(b), accounts.external_id(b)), ("2", None, None));
        assert_eq!((accounts.active(b), accounts.in_scope(b), accounts.claimed(b)), (false, true, None));
        accounts.claim(a, 7);
        accounts.release_key(a);
        accounts.release_prints(a);
        assert_eq!((accounts.claimed(a), accounts.key(a), accounts.external_id(a)), (Some(7), None, Some("E1")));
        assert!(accounts.prints(a).is_empty());
        accounts.release_external_id(a);
        assert_eq!((accounts.id(a), accounts.external_id(a)), ("id-1", None));
    }
}
