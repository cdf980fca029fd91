//! The audit log: appending under the chain's key, reading pages and the whole chain.

use super::*;

pub(super) fn audit_from_row(r: &AnyRow) -> AuditEntry {
    AuditEntry {
        seq: r.get(0),
        entry: NewAuditEntry { at_ms: r.get(1), actor: r.get(2), action: r.get(3), target: r.get(4), reason: r.get(5), detail: r.get(6) },
        prev_hash: r.get(7),
        hash: r.get(8),
    }
}

impl ControlStore {
    /// Appends one entry to the hash-chained audit log.
    pub async fn append_audit(&self, entry: NewAuditEntry) -> Result<AuditEntry, StoreError> {
        let _guard = self.append.lock().await;
        let mut tx = self.begin("appending to the audit log").await?;
        let stored = self.append_in(&mut tx, entry).await?;
        tx.commit().await.map_err(query_error("appending to the audit log"))?;
        self.keep_head(Some(stored.clone())).await;
        Ok(stored)
    }

    pub(super) async fn append_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        entry: NewAuditEntry,
    ) -> Result<AuditEntry, StoreError> {
        const DOING: &str = "appending to the audit log";
        if self.backend == "postgres" {
            // Other instances writing the same primary must not fork the chain.
            sqlx::query("SELECT pg_advisory_xact_lock(7305101)").execute(&mut **tx).await.map_err(query_error(DOING))?;
        }
        let key = self.key.as_ref().ok_or(StoreError::NoAuditKey)?;
        let last = sqlx::query("SELECT id, hash FROM audit_entries ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await
            .map_err(query_error(DOING))?
            .map(|r| (r.get::<i64, _>(0), r.get::<String, _>(1)));
        // The head recorded outside the log must still be in it, unchanged: never extend (and
        // so bless) a cut or rewritten tail.
        if let Some(local) = &self.head_keeper {
            if let Some((seq, hash)) = local.audit_head().await? {
                let head = crate::audit::Head { seq, hash, by: crate::audit::THIS_INSTANCE.into() };
                let at_head: Option<String> = match &last {
                    Some((id, h)) if *id == seq => Some(h.clone()),
                    Some((id, _)) if *id > seq => sqlx::query("SELECT hash FROM audit_entries WHERE id = $1")
                        .bind(seq)
                        .fetch_optional(&mut **tx)
                        .await
                        .map_err(query_error(DOING))?
                        .map(|r| r.get::<String, _>(0)),
                    _ => None,
                };
                crate::audit::may_extend(last.as_ref().map(|(s, h)| (*s, h.as_str())), Some(&head), at_head.as_deref()).map_err(|b| {
                    tracing::error!(broken = %b, "the audit log does not hold this instance's recorded head; refusing to append");
                    StoreError::Tampered(b)
                })?;
            }
        }
        let (seq, prev_hash) = last.map_or((1, GENESIS.to_string()), |(id, hash)| (id + 1, hash));
        let hash = chain_hash(key, &prev_hash, seq, &entry);
        // The seq is set here, under the lock, rather than by a sequence: a PostgreSQL sequence
        // skips numbers on rollback, and the chain must have no gaps.
        sqlx::query(
            "INSERT INTO audit_entries (id, at_ms, actor, action, target, reason, detail, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(seq)
        .bind(entry.at_ms)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(&entry.reason)
        .bind(&entry.detail)
        .bind(&prev_hash)
        .bind(&hash)
        .execute(&mut **tx)
        .await
        .map_err(query_error(DOING))?;
        Ok(AuditEntry { seq, entry, prev_hash, hash })
    }

    /// Audit entries matching `filter`, newest first, at most `limit`; with the log's size.
    pub async fn audit_page(&self, filter: &AuditFilter, limit: i64) -> Result<(Vec<AuditEntry>, i64), StoreError> {
        const DOING: &str = "reading the audit log";
        let mut clauses = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        let mut numbers: Vec<i64> = Vec::new();
        // Placeholders are numbered in bind order: texts first, then numbers.
        for (column, value, op) in [("actor", &filter.actor, "="), ("target", &filter.target, "="), ("action", &filter.action, "LIKE")] {
            if let Some(v) = value {
                if op == "LIKE" {
                    // A prefix match: the text's own `%`, `_` and `\` match only themselves.
                    let escaped = v.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                    texts.push(format!("{escaped}%"));
                    clauses.push(format!("{column} LIKE ${} ESCAPE '\\'", texts.len()));
                } else {
                    texts.push(v.clone());
                    clauses.push(format!("{column} {op} ${}", texts.len()));
                }
            }
        }
        for (column, value, op) in [("at_ms", filter.since_ms, ">="), ("at_ms", filter.until_ms, "<"), ("id", filter.before_seq, "<")] {
            if let Some(v) = value {
                numbers.push(v);
                clauses.push(format!("{column} {op} ${}", texts.len() + numbers.len()));
            }
        }
        let filter_sql = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
        let sql = format!(
            "SELECT id, at_ms, actor, action, target, reason, detail, prev_hash, hash FROM audit_entries \
             {filter_sql} ORDER BY id DESC LIMIT {}",
            limit.clamp(1, 1000)
        );
        let mut query = sqlx::query(&sql);
        for t in &texts {
            query = query.bind(t.clone());
        }
        for n in &numbers {
            query = query.bind(*n);
        }
        let rows = query.fetch_all(&self.pool).await.map_err(query_error(DOING))?;
        let total: i64 = sqlx::query("SELECT COUNT(*) FROM audit_entries").fetch_one(&self.pool).await.map_err(query_error(DOING))?.get(0);
        Ok((rows.iter().map(audit_from_row).collect(), total))
    }

    /// The newest `limit` audit entries, newest first.
    pub async fn audit_entries(&self, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at_ms, actor, action, target, reason, detail, prev_hash, hash \
             FROM audit_entries ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("reading the audit log"))?;
        Ok(rows.iter().map(audit_from_row).collect())
    }

    /// The whole audit log in `seq` order, for verifying and exporting.
    pub async fn audit_chain(&self) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at_ms, actor, action, target, reason, detail, prev_hash, hash \
             FROM audit_entries ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("reading the audit log"))?;
        Ok(rows.iter().map(audit_from_row).collect())
    }
}
