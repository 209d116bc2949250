#include "reconciler/live_comparison.h"

#include <algorithm>
#include <filesystem>

namespace sluice {
namespace {

// The scratch tables. WITHOUT ROWID keeps each side in its (source, key)
// B-tree, so that walking it in key order is a scan, not a sort.
constexpr char kTables[] = R"sql(
PRAGMA journal_mode=OFF;
PRAGMA synchronous=OFF;
PRAGMA cache_size=-16384;
CREATE TABLE src(source TEXT, key TEXT, vals BLOB, reason TEXT,
                 PRIMARY KEY(source, key)) WITHOUT ROWID;
CREATE TABLE tgt(source TEXT, key TEXT, target_id INTEGER, merged INTEGER, vals BLOB,
                 PRIMARY KEY(source, key)) WITHOUT ROWID;
CREATE TABLE stray(target_id INTEGER, vals BLOB);
CREATE TABLE clusters(target_id INTEGER PRIMARY KEY);
)sql";

std::string RowName(int64_t target_id) { return "row " + std::to_string(target_id); }

}  // namespace

LiveComparison::LiveComparison(const Entity& entity, Options options, std::unique_ptr<SqliteDb> db)
    : entity_(entity),
      schema_(entity.ToSchema()),
      options_(std::move(options)),
      db_(std::move(db)) {}

LiveComparison::~LiveComparison() {
  insert_source_ = Statement();
  insert_target_ = Statement();
  insert_stray_ = Statement();
  db_.reset();
  std::error_code ignored;
  std::filesystem::remove(options_.spill_path, ignored);
}

Result<std::unique_ptr<LiveComparison>> LiveComparison::Create(const Entity& entity,
                                                               Options options) {
  std::error_code ignored;
  std::filesystem::remove(options.spill_path, ignored);
  SLUICE_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(options.spill_path));
  std::unique_ptr<LiveComparison> c(new LiveComparison(entity, std::move(options), std::move(db)));
  SLUICE_RETURN_IF_ERROR(c->Prepare().WithContext("compare " + entity.name));
  return c;
}

Status LiveComparison::Prepare() {
  SLUICE_RETURN_IF_ERROR(db_->Exec(kTables));
  SLUICE_ASSIGN_OR_RETURN(insert_source_,
                          db_->Prepare("INSERT OR IGNORE INTO src VALUES(?1, ?2, ?3, ?4)"));
  SLUICE_ASSIGN_OR_RETURN(insert_target_,
                          db_->Prepare("INSERT OR REPLACE INTO tgt VALUES(?1, ?2, ?3, ?4, ?5)"));
  SLUICE_ASSIGN_OR_RETURN(insert_stray_, db_->Prepare("INSERT INTO stray VALUES(?1, ?2)"));
  if (options_.dedup != nullptr) {
    survivorship_ = MakePrioritySurvivorship(*options_.dedup, schema_);
    golden_ = std::make_unique<GoldenRecordBuilder>(*options_.dedup, schema_);
  }
  // One transaction for the whole spill: committed by Compare.
  SLUICE_RETURN_IF_ERROR(db_->Exec("BEGIN"));
  open_transaction_ = true;
  return Status::Ok();
}

Status LiveComparison::AddSourceRecords(const std::vector<Record>& records) {
  std::string image;
  for (const Record& r : records) {
    image.clear();
    EncodeCanonical(schema_, r.values, &image);
    SLUICE_RETURN_IF_ERROR(insert_source_.Reset());
    SLUICE_RETURN_IF_ERROR(insert_source_.BindView(1, r.source));
    SLUICE_RETURN_IF_ERROR(insert_source_.BindView(2, r.key));
    SLUICE_RETURN_IF_ERROR(insert_source_.BindView(3, image));
    SLUICE_RETURN_IF_ERROR(insert_source_.BindNull(4));
    SLUICE_RETURN_IF_ERROR(insert_source_.Run());
  }
  return Status::Ok();
}

Status LiveComparison::AddSourceReject(const std::string& source, const std::string& key,
                                       const std::string& reason) {
  SLUICE_RETURN_IF_ERROR(insert_source_.Reset());
  SLUICE_RETURN_IF_ERROR(insert_source_.BindView(1, source));
  SLUICE_RETURN_IF_ERROR(insert_source_.BindView(2, key));
  SLUICE_RETURN_IF_ERROR(insert_source_.BindNull(3));
  SLUICE_RETURN_IF_ERROR(insert_source_.BindView(4, reason.empty() ? "rejected" : reason));
  return insert_source_.Run();
}

Status LiveComparison::AddTargetRow(const TargetRow& row) {
  std::string image;
  SLUICE_RETURN_IF_ERROR(insert_target_.Reset());
  SLUICE_RETURN_IF_ERROR(insert_target_.BindView(1, row.source));
  SLUICE_RETURN_IF_ERROR(insert_target_.BindView(2, row.key));
  SLUICE_RETURN_IF_ERROR(insert_target_.Bind(3, row.target_id));
  SLUICE_RETURN_IF_ERROR(insert_target_.Bind(4, row.merged ? 1 : 0));
  if (row.values.empty()) {
    SLUICE_RETURN_IF_ERROR(insert_target_.BindNull(5));
  } else {
    EncodeCanonical(schema_, row.values, &image);
    SLUICE_RETURN_IF_ERROR(insert_target_.BindView(5, image));
  }
  return insert_target_.Run();
}

Status LiveComparison::AddStrayRow(const TargetRow& row) {
  std::string image;
  EncodeCanonical(schema_, row.values, &image);
  SLUICE_RETURN_IF_ERROR(insert_stray_.Reset());
  SLUICE_RETURN_IF_ERROR(insert_stray_.Bind(1, row.target_id));
  SLUICE_RETURN_IF_ERROR(insert_stray_.BindView(2, image));
  return insert_stray_.Run();
}

Result<std::vector<Value>> LiveComparison::Decode(std::string_view bytes) const {
  return DecodeCanonical(schema_, bytes);
}

Status LiveComparison::Compare(const AbsenceReason& absence, DifferenceLog* log) {
  if (open_transaction_) {
    SLUICE_RETURN_IF_ERROR(
        db_->Exec("INSERT OR IGNORE INTO clusters SELECT target_id FROM tgt WHERE merged = 1;"
                  "CREATE INDEX tgt_by_row ON tgt(target_id);"
                  "COMMIT"));
    open_transaction_ = false;
  }
  const std::string what = "compare " + entity_.name;
  SLUICE_RETURN_IF_ERROR(CompareRecords(absence, log).WithContext(what));
  SLUICE_RETURN_IF_ERROR(CompareClusters(log).WithContext(what));
  return ListMissingSources(log).WithContext(what);
}

// Every source record whose target row is its own (not a merged cluster's).
Status LiveComparison::CompareRecords(const AbsenceReason& absence, DifferenceLog* log) {
  SLUICE_ASSIGN_OR_RETURN(
      Statement st, db_->Prepare("SELECT s.source, s.key, s.vals, s.reason, t.target_id, t.vals,"
                                 " t.source IS NOT NULL FROM src s"
                                 " LEFT JOIN tgt t ON t.source = s.source AND t.key = s.key"
                                 " WHERE t.target_id IS NULL"
                                 "  OR t.target_id NOT IN (SELECT target_id FROM clusters)"
                                 " ORDER BY s.source, s.key"));
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    const std::string source(st.ColumnText(0)), key(st.ColumnText(1));
    const bool rejected = !st.ColumnIsNull(3);
    const bool has_entry = st.ColumnInt64(6) != 0;
    const bool has_row = has_entry && !st.ColumnIsNull(5);
    ++compared_;
    if (rejected) {
      // The pipeline would not load it today: a row still there differs.
      if (!has_row) {
        ++not_loaded_;
        continue;
      }
      SLUICE_ASSIGN_OR_RETURN(auto target, Decode(st.ColumnText(5)));
      log->Add({source, key, kRecordDiff, "(record)",
                "not loaded: " + std::string(st.ColumnText(3)), ShowRecord(schema_, target)});
      continue;
    }
    SLUICE_ASSIGN_OR_RETURN(auto values, Decode(st.ColumnText(2)));
    if (!has_entry) {
      SLUICE_ASSIGN_OR_RETURN(std::string why, absence(source, key));
      if (!why.empty()) {
        ++not_loaded_;
        continue;
      }
      log->Add({source, key, kMissingTarget, "", ShowRecord(schema_, values), "absent"});
      continue;
    }
    if (!has_row) {
      log->Add({source, key, kMissingTarget, "", ShowRecord(schema_, values),
                "no " + RowName(st.ColumnInt64(4))});
      continue;
    }
    SLUICE_ASSIGN_OR_RETURN(auto target, Decode(st.ColumnText(5)));
    const uint64_t before = log->count();
    AddRecordDiffs(schema_, source, key, values, target, log);
    if (log->count() == before) ++equal_;
  }
  return Status::Ok();
}

Status LiveComparison::CompareClusters(DifferenceLog* log) {
  SLUICE_ASSIGN_OR_RETURN(Statement st,
                          db_->Prepare("SELECT target_id FROM clusters ORDER BY target_id"));
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    SLUICE_RETURN_IF_ERROR(CompareCluster(st.ColumnInt64(0), log));
  }
  return Status::Ok();
}

Status LiveComparison::CompareCluster(int64_t target_id, DifferenceLog* log) {
  // The survivor's own entry first, then the merged members by key.
  SLUICE_ASSIGN_OR_RETURN(
      Statement st, db_->Prepare("SELECT t.source, t.key, t.merged, t.vals, s.vals, s.reason,"
                                 " s.source IS NOT NULL FROM tgt t"
                                 " LEFT JOIN src s ON s.source = t.source AND s.key = t.key"
                                 " WHERE t.target_id = ?1 ORDER BY t.merged, t.source, t.key"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, target_id));
  std::vector<Record> members;  // in the source and loadable today
  std::optional<uint32_t> survivor;
  std::optional<std::vector<Value>> golden_row;
  const uint64_t before = log->count();
  uint64_t in_source = 0;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    if (!golden_row && !st.ColumnIsNull(3)) {
      SLUICE_ASSIGN_OR_RETURN(golden_row, Decode(st.ColumnText(3)));
    }
    if (st.ColumnInt64(6) == 0) continue;  // gone from the source: ListMissingSources
    ++in_source;
    Record r;
    r.source = st.ColumnText(0);
    r.key = st.ColumnText(1);
    if (!st.ColumnIsNull(5)) {
      if (!st.ColumnIsNull(3)) {
        SLUICE_ASSIGN_OR_RETURN(auto target, Decode(st.ColumnText(3)));
        log->Add({r.source, r.key, kRecordDiff, "(record)",
                  "not loaded: " + std::string(st.ColumnText(5)), ShowRecord(schema_, target)});
      } else {
        ++not_loaded_;
      }
      continue;
    }
    SLUICE_ASSIGN_OR_RETURN(r.values, Decode(st.ColumnText(4)));
    if (st.ColumnIsNull(3)) {
      log->Add({r.source, r.key, kMissingTarget, "", ShowRecord(schema_, r.values),
                "no " + RowName(target_id)});
      continue;
    }
    if (st.ColumnInt64(2) == 0) survivor = static_cast<uint32_t>(members.size());
    r.content_hash = ContentHash(schema_, r.values);
    members.push_back(std::move(r));
  }
  compared_ += in_source;
  // Without its survivor the golden record cannot be rebuilt as it was
  // elected; the survivor's own absence is the difference reported.
  if (!survivor || !golden_row) return Status::Ok();
  std::vector<uint32_t> ranked = {*survivor};
  std::vector<GoldenChoice> choices(schema_.fields.size(), GoldenChoice{*survivor, "survivor", ""});
  if (golden_ != nullptr && !golden_->trivial()) {
    std::vector<uint32_t> all(members.size());
    for (uint32_t i = 0; i < all.size(); ++i) all[i] = i;
    ranked = survivorship_->Rank(members, all);
    // The survivor first, as the deduper puts it: validation may have
    // passed over better-ranked members.
    auto at = std::find(ranked.begin(), ranked.end(), *survivor);
    std::rotate(ranked.begin(), at, at + 1);
  }
  // The golden values as the members hold them: survivor's, overwritten
  // field by field. Build overwrites the survivor's record, so keep a copy
  // of the members for naming them.
  std::vector<Record> work = members;
  if (golden_ != nullptr && !golden_->trivial()) {
    choices = golden_->Build(work, ranked, options_.accept);
  }
  const std::vector<Value>& golden = work[*survivor].values;
  for (size_t f = 0; f < schema_.fields.size() && f < golden_row->size(); ++f) {
    if (golden[f] == (*golden_row)[f]) continue;
    const Record& from = members[std::min<size_t>(choices[f].member, members.size() - 1)];
    const FieldSpec& spec = schema_.fields[f];
    log->Add({from.source, from.key, kRecordDiff, spec.name, ShowValue(spec, golden[f]),
              ShowValue(spec, (*golden_row)[f])});
  }
  if (log->count() == before) equal_ += members.size();
  return Status::Ok();
}

Status LiveComparison::ListMissingSources(DifferenceLog* log) {
  SLUICE_ASSIGN_OR_RETURN(
      Statement st, db_->Prepare("SELECT t.source, t.key, t.target_id, t.merged, t.vals FROM tgt t"
                                 " WHERE NOT EXISTS (SELECT 1 FROM src s"
                                 "  WHERE s.source = t.source AND s.key = t.key)"
                                 " ORDER BY t.source, t.key"));
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    const int64_t id = st.ColumnInt64(2);
    std::string actual;
    if (st.ColumnIsNull(4)) {
      actual = "entry of " + RowName(id) + ", which is gone";
    } else {
      SLUICE_ASSIGN_OR_RETURN(auto values, Decode(st.ColumnText(4)));
      actual = (st.ColumnInt64(3) != 0 ? "merged into " + RowName(id) + ": " : RowName(id) + ": ") +
               ShowRecord(schema_, values);
    }
    log->Add({std::string(st.ColumnText(0)), std::string(st.ColumnText(1)), kMissingSource, "",
              "absent", actual});
  }
  SLUICE_ASSIGN_OR_RETURN(Statement strays,
                          db_->Prepare("SELECT target_id, vals FROM stray ORDER BY target_id"));
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, strays.Step());
    if (!row) break;
    SLUICE_ASSIGN_OR_RETURN(auto values, Decode(strays.ColumnText(1)));
    log->Add({"", RowName(strays.ColumnInt64(0)), kMissingSource, "", "no source record",
              ShowRecord(schema_, values)});
  }
  return Status::Ok();
}

}  // namespace sluice
