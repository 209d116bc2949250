#include "common/connectors/sqlite/sqlite_target_impl.h"

namespace sluice::sqlite_target {

std::string SqliteTarget::SqlString(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::string SqliteTarget::Difference(const std::vector<std::pair<std::string, std::string>>& want,
                                     const std::vector<std::pair<std::string, std::string>>& have) {
  std::map<std::string, std::string> w(want.begin(), want.end());
  std::map<std::string, std::string> h(have.begin(), have.end());
  std::string out;
  auto add = [&out](const std::string& s) { out += (out.empty() ? "" : ", ") + s; };
  for (const auto& [name, type] : want) {
    auto it = h.find(name);
    if (it == h.end()) {
      add("missing column '" + name + "'");
    } else if (it->second != type) {
      add("column '" + name + "' is " + it->second + ", expected " + type);
    }
  }
  for (const auto& [name, type] : have) {
    if (!w.count(name)) add("unexpected column '" + name + "'");
  }
  return out.empty() ? "columns in a different order" : out;
}

void SqliteTarget::ReserveScratch(const Schema& schema, size_t rows) {
  if (scratch_.size() < rows * schema.fields.size()) {
    scratch_.resize(rows * schema.fields.size());
  }
}

Status SqliteTarget::BindValues(const Schema& schema, const Record& r, Statement* stmt, int first,
                                size_t slot) {
  const size_t n = schema.fields.size();
  for (size_t i = 0; i < n; ++i) {
    const FieldSpec& f = schema.fields[i];
    const Value& v = r.values[i];
    int idx = first + static_cast<int>(i);
    if (v.is_null) {
      SLUICE_RETURN_IF_ERROR(stmt->BindNull(idx));
      continue;
    }
    switch (f.type) {
      case FieldType::kInt:
      case FieldType::kBool:
        SLUICE_RETURN_IF_ERROR(stmt->Bind(idx, v.i));
        break;
      case FieldType::kDecimal:
      case FieldType::kDate:
      case FieldType::kTimestamp: {
        std::string& text = scratch_[slot * n + i];
        text = *FormatValue(f, v);
        SLUICE_RETURN_IF_ERROR(stmt->BindView(idx, text));
        break;
      }
      default:
        SLUICE_RETURN_IF_ERROR(stmt->BindView(idx, v.s));
        break;
    }
  }
  return Status::Ok();
}

Result<Statement*> SqliteTarget::InsertRows(EntityStatements* st, size_t n) {
  Statement& s = st->insert_rows[n - 1];
  if (s.raw() == nullptr) {
    std::string row = "(?";
    for (size_t i = 0; i < st->schema.fields.size(); ++i) row += ", ?";
    row += ")";
    std::string sql = st->insert_rows_sql;
    for (size_t k = 0; k < n; ++k) sql += (k ? ", " : " ") + row;
    SLUICE_ASSIGN_OR_RETURN(s, db_->Prepare(sql));
  }
  return &s;
}

Result<Statement*> SqliteTarget::UpsertXref(EntityStatements* st, size_t n) {
  Statement& s = st->upsert_xref[n - 1];
  if (s.raw() == nullptr) {
    // ?1 is the entity and ?2 the run for every entry.
    std::string sql =
        "INSERT INTO sluice_xref(entity, source, key, target_id, content_hash, kind, run_id)"
        " VALUES";
    for (size_t k = 0; k < n; ++k) {
      sql += k ? ", (?1" : " (?1";
      for (size_t p = 0; p < 5; ++p) sql += ", ?" + std::to_string(3 + 5 * k + p);
      sql += ", ?2)";
    }
    sql +=
        " ON CONFLICT(entity, source, key) DO UPDATE SET"
        " target_id = excluded.target_id, content_hash = excluded.content_hash,"
        " kind = excluded.kind, run_id = excluded.run_id"
        " WHERE target_id IS NOT excluded.target_id"
        " OR content_hash IS NOT excluded.content_hash OR kind IS NOT excluded.kind";
    SLUICE_ASSIGN_OR_RETURN(s, db_->Prepare(sql));
  }
  return &s;
}

Status SqliteTarget::FlushRows(EntityStatements* st, const RecordBatch& batch) {
  const size_t n = st->schema.fields.size();
  ReserveScratch(st->schema, st->rows_per_insert);
  for (size_t done = 0; done < pending_rows_.size();) {
    const size_t count = std::min(st->rows_per_insert, pending_rows_.size() - done);
    SLUICE_ASSIGN_OR_RETURN(Statement * s, InsertRows(st, count));
    SLUICE_RETURN_IF_ERROR(s->Reset());
    for (size_t k = 0; k < count; ++k) {
      const auto& [index, id] = pending_rows_[done + k];
      const int first = static_cast<int>(k * (n + 1) + 1);
      SLUICE_RETURN_IF_ERROR(BindValues(st->schema, batch.records[index], s, first, k));
      SLUICE_RETURN_IF_ERROR(s->Bind(first + static_cast<int>(n), id));
    }
    Status written = s->Run();
    if (!written.ok()) {
      return written.WithContext("records " + RecordName(batch.records[pending_rows_[done].first]) +
                                 " to " +
                                 RecordName(batch.records[pending_rows_[done + count - 1].first]));
    }
    done += count;
  }
  pending_rows_.clear();
  return Status::Ok();
}

Status SqliteTarget::FlushXref(EntityStatements* st, const std::string& entity,
                               const std::string& run_id) {
  for (size_t done = 0; done < pending_xref_.size();) {
    const size_t count = std::min(st->entries_per_upsert, pending_xref_.size() - done);
    for (size_t k = 0; k < count; ++k) {
      const XrefWrite& w = pending_xref_[done + k];
      if (w.save) SLUICE_RETURN_IF_ERROR(SaveXref(entity, run_id, w));
    }
    SLUICE_ASSIGN_OR_RETURN(Statement * s, UpsertXref(st, count));
    SLUICE_RETURN_IF_ERROR(s->Reset());
    SLUICE_RETURN_IF_ERROR(s->BindView(1, entity));
    SLUICE_RETURN_IF_ERROR(s->BindView(2, run_id));
    for (size_t k = 0; k < count; ++k) {
      const XrefWrite& w = pending_xref_[done + k];
      const int first = static_cast<int>(3 + 5 * k);
      SLUICE_RETURN_IF_ERROR(s->BindView(first, w.source));
      SLUICE_RETURN_IF_ERROR(s->BindView(first + 1, w.key));
      SLUICE_RETURN_IF_ERROR(s->Bind(first + 2, w.target_id));
      SLUICE_RETURN_IF_ERROR(s->Bind(first + 3, std::bit_cast<int64_t>(w.hash)));
      SLUICE_RETURN_IF_ERROR(s->BindView(first + 4, w.kind));
    }
    Status written = s->Run();
    if (!written.ok()) {
      const XrefWrite& a = pending_xref_[done];
      const XrefWrite& b = pending_xref_[done + count - 1];
      return written.WithContext("cross-reference of " + std::string(a.source) + "/" +
                                 std::string(a.key) + " to " + std::string(b.source) + "/" +
                                 std::string(b.key));
    }
    done += count;
  }
  pending_xref_.clear();
  return Status::Ok();
}

Status SqliteTarget::SaveXref(const std::string& entity, const std::string& run_id,
                              const XrefWrite& w) {
  Statement& s = save_xref_;
  SLUICE_RETURN_IF_ERROR(s.Reset());
  SLUICE_RETURN_IF_ERROR(s.BindView(1, run_id));
  SLUICE_RETURN_IF_ERROR(s.BindView(2, entity));
  SLUICE_RETURN_IF_ERROR(s.BindView(3, w.source));
  SLUICE_RETURN_IF_ERROR(s.BindView(4, w.key));
  SLUICE_RETURN_IF_ERROR(s.Bind(5, w.target_id));
  SLUICE_RETURN_IF_ERROR(s.Bind(6, std::bit_cast<int64_t>(w.hash)));
  SLUICE_RETURN_IF_ERROR(s.BindView(7, w.kind));
  SLUICE_RETURN_IF_ERROR(s.Run());
  Statement& n = save_new_xref_;
  SLUICE_RETURN_IF_ERROR(n.Reset());
  SLUICE_RETURN_IF_ERROR(n.BindView(1, run_id));
  SLUICE_RETURN_IF_ERROR(n.BindView(2, entity));
  SLUICE_RETURN_IF_ERROR(n.BindView(3, w.source));
  SLUICE_RETURN_IF_ERROR(n.BindView(4, w.key));
  return n.Run();
}

Status SqliteTarget::AddRollback(const std::string& run_id, const std::string& entity,
                                 int64_t target_id, int64_t last_id, const char* op,
                                 std::string_view before) {
  Statement& s = insert_rollback_;
  SLUICE_RETURN_IF_ERROR(s.Reset());
  SLUICE_RETURN_IF_ERROR(s.BindView(1, run_id));
  SLUICE_RETURN_IF_ERROR(s.BindView(2, entity));
  SLUICE_RETURN_IF_ERROR(s.Bind(3, target_id));
  SLUICE_RETURN_IF_ERROR(s.Bind(4, last_id));
  SLUICE_RETURN_IF_ERROR(s.BindView(5, op));
  SLUICE_RETURN_IF_ERROR(s.BindView(6, before));
  return s.Run();
}

Result<XrefEntry> SqliteTarget::Lookup(EntityStatements* st, const std::string& entity,
                                       const std::string& source, const std::string& key) {
  Statement& s = st->lookup;
  SLUICE_RETURN_IF_ERROR(s.Reset());
  SLUICE_RETURN_IF_ERROR(s.BindView(1, entity));
  SLUICE_RETURN_IF_ERROR(s.BindView(2, source));
  SLUICE_RETURN_IF_ERROR(s.BindView(3, key));
  XrefEntry e;
  SLUICE_ASSIGN_OR_RETURN(e.found, s.Step());
  if (e.found) {
    e.target_id = s.ColumnInt64(0);
    e.hash = std::bit_cast<uint64_t>(s.ColumnInt64(1));
    e.merged = s.ColumnText(2) == "merged";
  }
  SLUICE_RETURN_IF_ERROR(s.Reset());
  return e;
}

Result<bool> SqliteTarget::AnyInRange(EntityStatements* st, const std::string& entity,
                                      const std::string& source, std::string_view low,
                                      std::string_view high) {
  Statement& s = st->any_in_range;
  SLUICE_RETURN_IF_ERROR(s.Reset());
  SLUICE_RETURN_IF_ERROR(s.BindView(1, entity));
  SLUICE_RETURN_IF_ERROR(s.BindView(2, source));
  SLUICE_RETURN_IF_ERROR(s.BindView(3, low));
  SLUICE_RETURN_IF_ERROR(s.BindView(4, high));
  SLUICE_ASSIGN_OR_RETURN(bool any, s.Step());
  SLUICE_RETURN_IF_ERROR(s.Reset());
  return any;
}

Status SqliteTarget::LookupRange(EntityStatements* st, const std::string& entity,
                                 const std::vector<Record>& records, size_t begin, size_t end) {
  entries_.assign(end - begin, XrefEntry{});
  looked_up_.assign(end - begin, false);
  Statement& s = st->lookup_keys;
  for (size_t first = begin; first < end; ++first) {
    if (looked_up_[first - begin]) continue;
    const std::string& source = records[first].source;
    // The keys of this source, sorted so that each answer finds its records.
    keys_.clear();
    for (size_t i = first; i < end; ++i) {
      if (looked_up_[i - begin] || records[i].source != source) continue;
      looked_up_[i - begin] = true;
      keys_.emplace_back(records[i].key, i - begin);
    }
    std::sort(keys_.begin(), keys_.end());
    if (bytewise_keys_) {
      SLUICE_ASSIGN_OR_RETURN(
          bool any, AnyInRange(st, entity, source, keys_.front().first, keys_.back().first));
      if (!any) continue;
    }
    for (size_t from = 0; from < keys_.size(); from += kKeysPerLookup) {
      const size_t to = std::min(keys_.size(), from + kKeysPerLookup);
      SLUICE_RETURN_IF_ERROR(s.Reset());  // unbound keys stay NULL and match nothing
      SLUICE_RETURN_IF_ERROR(s.BindView(1, entity));
      SLUICE_RETURN_IF_ERROR(s.BindView(2, source));
      for (size_t k = from; k < to; ++k) {
        SLUICE_RETURN_IF_ERROR(s.BindView(static_cast<int>(3 + k - from), keys_[k].first));
      }
      while (true) {
        SLUICE_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        XrefEntry e;
        e.found = true;
        e.target_id = s.ColumnInt64(1);
        e.hash = std::bit_cast<uint64_t>(s.ColumnInt64(2));
        e.merged = s.ColumnText(3) == "merged";
        const std::string_view key = s.ColumnText(0);
        auto it = std::lower_bound(keys_.begin() + from, keys_.begin() + to,
                                   std::make_pair(key, size_t{0}));
        for (; it != keys_.begin() + to && it->first == key; ++it) entries_[it->second] = e;
      }
    }
    SLUICE_RETURN_IF_ERROR(s.Reset());
  }
  return Status::Ok();
}

Result<LoadOutcome> SqliteTarget::LoadBatch(const std::string& run_id, const Entity& entity,
                                            const RecordBatch& batch) {
  SLUICE_RETURN_IF_ERROR(PrepareEntity(entity));
  EntityStatements* st = entities_[entity.name].get();
  if (!batch.records.empty() && !(batch.schema == st->schema)) {
    return Status::InvalidArgument("batch schema does not match the model of entity '" +
                                   entity.name + "'");
  }
  const std::string name = BatchName(batch.id);
  const std::vector<Record>& records = batch.records;
  LoadOutcome out;
  out.target_ids.reserve(records.size());
  out.actions.reserve(records.size());
  pending_rows_.clear();
  pending_xref_.clear();
  SLUICE_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db_.get()));

  SLUICE_RETURN_IF_ERROR(find_batch_.Reset());
  SLUICE_RETURN_IF_ERROR(find_batch_.BindView(1, run_id));
  SLUICE_RETURN_IF_ERROR(find_batch_.BindView(2, name));
  SLUICE_ASSIGN_OR_RETURN(bool applied, find_batch_.Step());
  if (applied) {
    out.replayed = true;
    out.inserted = static_cast<uint64_t>(find_batch_.ColumnInt64(0));
    out.updated = static_cast<uint64_t>(find_batch_.ColumnInt64(1));
    out.unchanged = static_cast<uint64_t>(find_batch_.ColumnInt64(2));
    out.actions = std::string(find_batch_.ColumnText(3));
    SLUICE_RETURN_IF_ERROR(find_batch_.Reset());
    for (size_t begin = 0; begin < records.size(); begin += kKeysPerLookup) {
      const size_t end = std::min(records.size(), begin + kKeysPerLookup);
      SLUICE_RETURN_IF_ERROR(LookupRange(st, entity.name, records, begin, end));
      for (const XrefEntry& e : entries_) out.target_ids.push_back(e.target_id);
    }
    SLUICE_RETURN_IF_ERROR(tx.Commit());
    return out;
  }
  SLUICE_RETURN_IF_ERROR(find_batch_.Reset());

  SLUICE_RETURN_IF_ERROR(st->max_id.Reset());
  SLUICE_ASSIGN_OR_RETURN(bool has_max, st->max_id.Step());
  st->next_id = (has_max ? st->max_id.ColumnInt64(0) : 0) + 1;
  const int64_t first_new_id = st->next_id;
  SLUICE_RETURN_IF_ERROR(st->max_id.Reset());

  const std::vector<bool> repeated = KeysWrittenBefore(batch);
  const size_t n = st->schema.fields.size();
  for (size_t begin = 0; begin < records.size(); begin += kKeysPerLookup) {
    const size_t end = std::min(records.size(), begin + kKeysPerLookup);
    SLUICE_RETURN_IF_ERROR(LookupRange(st, entity.name, records, begin, end));
    for (size_t i = begin; i < end; ++i) {
      const Record& r = records[i];
      if (r.values.size() != n) {
        return Status::InvalidArgument("has " + std::to_string(r.values.size()) +
                                       " values, expected " + std::to_string(n))
            .WithContext("record " + RecordName(r));
      }
      XrefEntry e = entries_[i - begin];
      if (!repeated.empty() && repeated[i]) {
        // Its entry is among this batch's writes: make them, then read it.
        SLUICE_RETURN_IF_ERROR(FlushRows(st, batch));
        SLUICE_RETURN_IF_ERROR(FlushXref(st, entity.name, run_id));
        SLUICE_ASSIGN_OR_RETURN(e, Lookup(st, entity.name, r.source, r.key));
      }
      int64_t target_id = e.target_id;
      // A key that was merged into a survivor in an earlier run and now
      // arrives on its own gets its own row: never overwrite the survivor.
      if (!e.found || e.merged) {
        target_id = st->next_id++;
        pending_rows_.emplace_back(i, target_id);
        pending_xref_.push_back({r.source, r.key, target_id, r.content_hash, "loaded", e.found});
        ++out.inserted;
        out.actions.push_back(LoadOutcome::kInserted);
      } else if (e.hash == r.content_hash) {
        ++out.unchanged;
        out.actions.push_back(LoadOutcome::kUnchanged);
      } else {
        // An entry left pointing past the last row (its row was removed)
        // names a row this batch inserts: write that row first.
        if (target_id >= first_new_id) SLUICE_RETURN_IF_ERROR(FlushRows(st, batch));
        Statement& save = st->save_row;
        SLUICE_RETURN_IF_ERROR(save.Reset());
        SLUICE_RETURN_IF_ERROR(save.BindView(1, run_id));
        SLUICE_RETURN_IF_ERROR(save.BindView(2, entity.name));
        SLUICE_RETURN_IF_ERROR(save.Bind(3, target_id));
        SLUICE_RETURN_IF_ERROR(save.Run());
        Statement& u = st->update_row;
        SLUICE_RETURN_IF_ERROR(u.Reset());
        ReserveScratch(st->schema, 1);
        SLUICE_RETURN_IF_ERROR(BindValues(st->schema, r, &u, 1, 0));
        SLUICE_RETURN_IF_ERROR(u.Bind(static_cast<int>(n + 1), target_id));
        Status updated = u.Run();
        if (!updated.ok()) return updated.WithContext("record " + RecordName(r));
        pending_xref_.push_back({r.source, r.key, target_id, r.content_hash, "loaded", true});
        ++out.updated;
        out.actions.push_back(LoadOutcome::kUpdated);
      }
      out.target_ids.push_back(target_id);
      for (const SourceKey& m : r.merged) {
        SLUICE_RETURN_IF_ERROR(RetireMergedRow(st, run_id, entity, m, target_id).status());
        pending_xref_.push_back({m.source, m.key, target_id, 0, "merged", true});
      }
      if (pending_rows_.size() >= st->rows_per_insert) {
        SLUICE_RETURN_IF_ERROR(FlushRows(st, batch));
      }
      if (pending_xref_.size() >= st->entries_per_upsert) {
        SLUICE_RETURN_IF_ERROR(FlushXref(st, entity.name, run_id));
      }
    }
  }
  SLUICE_RETURN_IF_ERROR(FlushRows(st, batch));
  SLUICE_RETURN_IF_ERROR(FlushXref(st, entity.name, run_id));
  // The batch's new rows are the ids first_new_id..next_id - 1.
  if (st->next_id > first_new_id) {
    SLUICE_RETURN_IF_ERROR(
        AddRollback(run_id, entity.name, first_new_id, st->next_id - 1, "insert", {}));
  }
  SLUICE_RETURN_IF_ERROR(AddRollback(run_id, entity.name, 0, 0, "batch", name));

  SLUICE_RETURN_IF_ERROR(insert_batch_.Reset());
  SLUICE_RETURN_IF_ERROR(insert_batch_.BindView(1, run_id));
  SLUICE_RETURN_IF_ERROR(insert_batch_.BindView(2, name));
  SLUICE_RETURN_IF_ERROR(insert_batch_.Bind(3, static_cast<int64_t>(out.inserted)));
  SLUICE_RETURN_IF_ERROR(insert_batch_.Bind(4, static_cast<int64_t>(out.updated)));
  SLUICE_RETURN_IF_ERROR(insert_batch_.Bind(5, static_cast<int64_t>(out.unchanged)));
  SLUICE_RETURN_IF_ERROR(insert_batch_.BindView(6, out.actions));
  SLUICE_RETURN_IF_ERROR(insert_batch_.Run());
  SLUICE_RETURN_IF_ERROR(tx.Commit());
  return out;
}

Result<bool> SqliteTarget::RetireMergedRow(EntityStatements* st, const std::string& run_id,
                                           const Entity& entity, const SourceKey& merged,
                                           int64_t survivor_id) {
  SLUICE_ASSIGN_OR_RETURN(XrefEntry e, Lookup(st, entity.name, merged.source, merged.key));
  // Its own row of an earlier run, which the fates no longer call loaded.
  if (!e.found || e.merged || e.target_id == survivor_id) return false;
  Statement& save = st->save_deleted;
  SLUICE_RETURN_IF_ERROR(save.Reset());
  SLUICE_RETURN_IF_ERROR(save.BindView(1, run_id));
  SLUICE_RETURN_IF_ERROR(save.BindView(2, entity.name));
  SLUICE_RETURN_IF_ERROR(save.Bind(3, e.target_id));
  SLUICE_RETURN_IF_ERROR(save.Run());
  Statement& del = st->delete_row;
  SLUICE_RETURN_IF_ERROR(del.Reset());
  SLUICE_RETURN_IF_ERROR(del.Bind(1, e.target_id));
  Status deleted = del.Run();
  if (!deleted.ok())
    return deleted.WithContext("retiring the row of " + merged.source + "/" + merged.key);
  SLUICE_RETURN_IF_ERROR(MoveReferences(run_id, entity.name, e.target_id, survivor_id));
  return true;
}

}  // namespace sluice::sqlite_target
