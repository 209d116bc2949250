// The loaded values of a batch (issue 20): what a loader commit says it
// loaded, in canonical encoding (issue 17), is stored as one row per loader
// commit rather than one column per fate row. The fate rows stay the size
// they had before issue 17, the values are written once as a run of
// overflow pages, and the reconciler's feed reads each batch's values in one
// go beside the fates it pages through.
//
// One row holds the commit's LOADED fates that came with values, each as
//   varint |source| source varint |key| key fixed64 content_hash
//   varint |values| values
// A fate finds its values by (source, key, content hash): the fates of a
// commit are stored in the order of its entries, so the lookup is usually the
// next entry.
#include "common/audit/audit_values.h"

#include "common/audit/audit_store.h"

namespace sluice {
namespace {

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const auto byte = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

void PutBytes(std::string_view s, std::string* out) {
  PutVarint(s.size(), out);
  out->append(s);
}

bool GetBytes(std::string_view* in, std::string_view* s) {
  uint64_t n = 0;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  *s = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

}  // namespace

std::string EncodeBatchValues(const v1::Commit& commit) {
  std::string out;
  for (const v1::Fate& f : commit.fates()) {
    if (f.kind() != v1::FATE_LOADED || f.loaded_values().empty()) continue;
    PutBytes(f.source(), &out);
    PutBytes(f.key(), &out);
    const uint64_t hash = f.content_hash();
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(hash >> (8 * i)));
    PutBytes(f.loaded_values(), &out);
  }
  return out;
}

bool DecodeBatchValues(std::string_view in, std::vector<BatchValueEntry>* out) {
  while (!in.empty()) {
    BatchValueEntry e;
    if (!GetBytes(&in, &e.source) || !GetBytes(&in, &e.key) || in.size() < 8) return false;
    for (int i = 0; i < 8; ++i) {
      e.content_hash |= static_cast<uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
    }
    in.remove_prefix(8);
    if (!GetBytes(&in, &e.values)) return false;
    out->push_back(e);
  }
  return true;
}

Status AuditStore::InitBatchValues() {
  return db_->Exec(
      "CREATE TABLE IF NOT EXISTS batch_values(run_id TEXT, wave INTEGER, entity TEXT,"
      " batch TEXT, entries BLOB);"
      "CREATE INDEX IF NOT EXISTS batch_values_by_batch ON batch_values(run_id, batch);");
}

Status AuditStore::RecordBatchValues(const std::string& run_id, int wave, const std::string& batch,
                                     const v1::Commit& commit) {
  const std::string entries = EncodeBatchValues(commit);
  if (entries.empty()) return Status::Ok();
  SLUICE_ASSIGN_OR_RETURN(auto st, db_->Prepare("INSERT INTO batch_values VALUES(?,?,?,?,?)"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, wave));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, commit.batch().entity()));
  SLUICE_RETURN_IF_ERROR(st.Bind(4, batch));
  SLUICE_RETURN_IF_ERROR(st.BindView(5, entries));
  return st.Run();
}

BatchValuesReader::BatchValuesReader(SqliteDb* db, std::string run_id)
    : db_(db), run_id_(std::move(run_id)) {}

Result<std::string_view> BatchValuesReader::Find(std::string_view batch, std::string_view source,
                                                 std::string_view key, uint64_t content_hash) {
  if (!loaded_ || batch != batch_) SLUICE_RETURN_IF_ERROR(Load(batch));
  auto matches = [&](const BatchValueEntry& e) {
    return e.content_hash == content_hash && e.key == key && e.source == source;
  };
  if (next_ < entries_.size() && matches(entries_[next_])) return entries_[next_++].values;
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (matches(entries_[i])) {
      next_ = i + 1;
      return entries_[i].values;
    }
  }
  return std::string_view();
}

Status BatchValuesReader::Load(std::string_view batch) {
  batch_ = std::string(batch);
  loaded_ = true;
  buffer_.clear();
  entries_.clear();
  next_ = 0;
  if (!table_checked_) {  // a store written before issue 20, opened read-only
    SLUICE_ASSIGN_OR_RETURN(auto st, db_->Prepare("SELECT 1 FROM sqlite_master WHERE"
                                                  " type='table' AND name='batch_values'"));
    SLUICE_ASSIGN_OR_RETURN(has_table_, st.Step());
    table_checked_ = true;
  }
  if (!has_table_) return Status::Ok();
  if (select_.raw() == nullptr) {
    SLUICE_ASSIGN_OR_RETURN(select_, db_->Prepare("SELECT entries FROM batch_values WHERE"
                                                  " run_id=? AND batch=? ORDER BY rowid"));
  }
  SLUICE_RETURN_IF_ERROR(select_.Reset());
  SLUICE_RETURN_IF_ERROR(select_.Bind(1, run_id_));
  SLUICE_RETURN_IF_ERROR(select_.Bind(2, batch_));
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(bool row, select_.Step());
    if (!row) break;
    buffer_.append(select_.ColumnText(0));
  }
  if (!DecodeBatchValues(buffer_, &entries_)) {
    return Status::Corruption("the loaded values of batch " + batch_ + " are damaged");
  }
  return Status::Ok();
}

}  // namespace sluice
