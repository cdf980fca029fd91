//! Users: the config's and managed ones, their roles, hashes and standing.

use super::*;

/// A stored user.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// argon2id PHC string.
    pub password_hash: String,
    /// True when the user may not log in.
    pub disabled: bool,
    /// True for users added with `crowsnest user add` (false: from the config).
    pub managed: bool,
    /// Sessions that logged in before this (unix milliseconds) are over.
    pub sessions_valid_after_ms: i64,
}

/// Explicitly not `Debug` with the hash: a secret must not reach a log by accident.
impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .field("managed", &self.managed)
            .finish_non_exhaustive()
    }
}

/// A change to a user.
#[derive(Debug, Clone)]
pub enum UserChange {
    /// A new argon2id hash.
    Password(String),
    /// Disable (true) or enable (false).
    Disabled(bool),
}

impl ControlStore {
    /// Makes the config's users (not managed ones) equal `users` (name, role, hash); a changed
    /// hash or role ends that user's sessions.
    pub async fn sync_users(&self, users: &[(String, String, String)], now_ms: i64) -> Result<(), StoreError> {
        const DOING: &str = "syncing users from the config";
        let mut tx = self.begin(DOING).await?;
        let stored = sqlx::query("SELECT name FROM users WHERE managed = 0").fetch_all(&mut *tx).await.map_err(query_error(DOING))?;
        for row in &stored {
            let name: String = row.get(0);
            if !users.iter().any(|(n, _, _)| *n == name) {
                sqlx::query("DELETE FROM users WHERE name = $1 AND managed = 0")
                    .bind(&name)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_error(DOING))?;
            }
        }
        for (name, role, hash) in users {
            sqlx::query(
                "INSERT INTO users (name, role, password_hash, updated_at_ms, managed) VALUES ($1, $2, $3, $4, 0) \
                 ON CONFLICT (name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash, \
                 updated_at_ms = excluded.updated_at_ms, sessions_valid_after_ms = excluded.updated_at_ms \
                 WHERE users.managed = 0 AND (users.role <> excluded.role OR users.password_hash <> excluded.password_hash)",
            )
            .bind(name)
            .bind(role)
            .bind(hash)
            .bind(now_ms)
            .execute(&mut *tx)
            .await
            .map_err(query_error(DOING))?;
        }
        tx.commit().await.map_err(query_error(DOING))
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let rows = sqlx::query("SELECT name, role, password_hash, disabled, managed, sessions_valid_after_ms FROM users ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("reading users"))?;
        Ok(rows
            .iter()
            .map(|r| UserRecord {
                name: r.get(0),
                role: Role::parse(&r.get::<String, _>(1)).unwrap_or(Role::Viewer),
                password_hash: r.get(2),
                disabled: r.get::<i64, _>(3) != 0,
                managed: r.get::<i64, _>(4) != 0,
                sessions_valid_after_ms: r.get(5),
            })
            .collect())
    }

    /// One user.
    pub async fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        Ok(self.users().await?.into_iter().find(|u| u.name == name))
    }

    /// Adds a managed user and audits it; false when the name is taken.
    pub async fn add_user(&self, name: &str, role: Role, hash: &str, audit: NewAuditEntry) -> Result<bool, StoreError> {
        const DOING: &str = "adding a user";
        let _guard = self.append.lock().await;
        let mut tx = self.begin(DOING).await?;
        let added = sqlx::query(
            "INSERT INTO users (name, role, password_hash, updated_at_ms, managed) VALUES ($1, $2, $3, $4, 1) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(hash)
        .bind(audit.at_ms)
        .execute(&mut *tx)
        .await
        .map_err(query_error(DOING))?
        .rows_affected()
            == 1;
        let last = if added { Some(self.append_in(&mut tx, audit).await?) } else { None };
        tx.commit().await.map_err(query_error(DOING))?;
        self.keep_head(last).await;
        Ok(added)
    }

    /// Changes a user's password or disabled flag, ends their sessions, and audits it; false
    /// when there is no such user.
    pub async fn change_user(&self, name: &str, change: UserChange, audit: NewAuditEntry) -> Result<bool, StoreError> {
        const DOING: &str = "changing a user";
        let _guard = self.append.lock().await;
        let mut tx = self.begin(DOING).await?;
        let query = match &change {
            UserChange::Password(hash) => {
                sqlx::query("UPDATE users SET password_hash = $1, updated_at_ms = $2, sessions_valid_after_ms = $2 WHERE name = $3")
                    .bind(hash.clone())
            }
            UserChange::Disabled(disabled) => {
                sqlx::query("UPDATE users SET disabled = $1, updated_at_ms = $2, sessions_valid_after_ms = $2 WHERE name = $3")
                    .bind(*disabled as i64)
            }
        };
        let changed = query.bind(audit.at_ms).bind(name).execute(&mut *tx).await.map_err(query_error(DOING))?.rows_affected() == 1;
        let last = if changed { Some(self.append_in(&mut tx, audit).await?) } else { None };
        tx.commit().await.map_err(query_error(DOING))?;
        self.keep_head(last).await;
        Ok(changed)
    }
}
