#include "common/runtime/codec.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/core/limits.h"
#include "common/core/utf8.h"

namespace sluice {

v1::FieldType ToProto(FieldType type) {
  switch (type) {
    case FieldType::kString:
      return v1::FIELD_TYPE_STRING;
    case FieldType::kInt:
      return v1::FIELD_TYPE_INT;
    case FieldType::kDecimal:
      return v1::FIELD_TYPE_DECIMAL;
    case FieldType::kDate:
      return v1::FIELD_TYPE_DATE;
    case FieldType::kTimestamp:
      return v1::FIELD_TYPE_TIMESTAMP;
    case FieldType::kBool:
      return v1::FIELD_TYPE_BOOL;
    case FieldType::kEnum:
      return v1::FIELD_TYPE_ENUM;
    case FieldType::kReference:
      return v1::FIELD_TYPE_REFERENCE;
  }
  return v1::FIELD_TYPE_UNSPECIFIED;
}

FieldType FromProto(v1::FieldType type) {
  switch (type) {
    case v1::FIELD_TYPE_INT:
      return FieldType::kInt;
    case v1::FIELD_TYPE_DECIMAL:
      return FieldType::kDecimal;
    case v1::FIELD_TYPE_DATE:
      return FieldType::kDate;
    case v1::FIELD_TYPE_TIMESTAMP:
      return FieldType::kTimestamp;
    case v1::FIELD_TYPE_BOOL:
      return FieldType::kBool;
    case v1::FIELD_TYPE_ENUM:
      return FieldType::kEnum;
    case v1::FIELD_TYPE_REFERENCE:
      return FieldType::kReference;
    default:
      return FieldType::kString;
  }
}

void EncodeSchema(const Schema& schema, v1::Schema* out) {
  for (const auto& f : schema.fields) {
    auto* pf = out->add_fields();
    pf->set_name(f.name);
    pf->set_type(ToProto(f.type));
    pf->set_precision(f.precision);
    pf->set_scale(f.scale);
  }
}

Result<Schema> DecodeSchema(const v1::Schema& in) {
  Schema s;
  for (const auto& pf : in.fields()) {
    if (pf.type() == v1::FIELD_TYPE_UNSPECIFIED) {
      return Status::Corruption("field " + pf.name() + " has no type");
    }
    s.fields.push_back({pf.name(), FromProto(pf.type()), pf.precision(), pf.scale()});
  }
  return s;
}

namespace {

using google::protobuf::RepeatedField;

// Bit i of a column's NULL mask, as the wire format lays it out.
bool NullBit(const std::string& nulls, size_t i) {
  return (static_cast<unsigned char>(nulls[i / 8]) >> (i % 8)) & 1;
}

// One column of a batch being encoded, written record by record.
struct ColumnWriter {
  bool integral = false;
  v1::Column* col = nullptr;
  std::string* nulls = nullptr;  // allocated on the first NULL only
  size_t string_bytes = 0;       // sum of the non-NULL string sizes
  int64_t* ints = nullptr;
  char* data = nullptr;
  uint32_t* ends = nullptr;
  uint32_t end = 0;
};

// True when `ends` are valid cumulative end offsets into `data_size` bytes:
// never decreasing, the last one (or 0 when there are none) at the end.
bool ValidEnds(const RepeatedField<uint32_t>& ends, size_t data_size) {
  uint32_t prev = 0;
  for (uint32_t e : ends) {
    if (e < prev) return false;
    prev = e;
  }
  return prev == data_size;
}

// One column of a batch being decoded, read record by record.
struct ColumnReader {
  bool integral = false;
  const int64_t* ints = nullptr;
  const char* data = nullptr;
  const uint32_t* ends = nullptr;
  const std::string* nulls = nullptr;  // null: the column has no NULL
};

}  // namespace

void EncodeBatch(const RecordBatch& batch, v1::RecordBatch* out) {
  out->Clear();
  *out->mutable_id() = batch.id;
  out->set_epoch(batch.epoch);
  *out->mutable_range() = batch.range;
  EncodeSchema(batch.schema, out->mutable_schema());
  const std::vector<Record>& records = batch.records;
  const size_t n = records.size();
  const size_t nf = batch.schema.fields.size();
  const int ni = static_cast<int>(n);

  // Two passes, both record by record (a batch's values do not fit in the
  // cache, going column by column would fetch them once per column): the
  // first sizes every buffer, the second fills them with plain copies.
  std::vector<ColumnWriter> columns(nf);
  out->mutable_columns()->Reserve(static_cast<int>(nf));
  for (size_t f = 0; f < nf; ++f) {
    columns[f].integral = IsIntegral(batch.schema.fields[f].type);
    columns[f].col = out->add_columns();
  }
  // Source names are looked up linearly, the last hit first: they come from
  // the plan, a batch holds very few of them.
  auto* source_names = out->mutable_source_names();
  auto* source_index = out->mutable_source_index();
  source_index->Resize(ni, 0);
  auto* hashes = out->mutable_content_hashes();
  hashes->Resize(ni, 0);
  auto* lines = out->mutable_lines();
  lines->Resize(ni, 0);
  size_t key_bytes = 0;
  bool any_merged = false;
  int last = -1;
  for (size_t i = 0; i < n; ++i) {
    const Record& r = records[i];
    if (last < 0 || source_names->Get(last) != r.source) {
      last = 0;
      while (last < source_names->size() && source_names->Get(last) != r.source) ++last;
      if (last == source_names->size()) out->add_source_names(r.source);
    }
    source_index->Set(static_cast<int>(i), static_cast<uint32_t>(last));
    hashes->Set(static_cast<int>(i), r.content_hash);
    lines->Set(static_cast<int>(i), r.line);
    key_bytes += r.key.size();
    any_merged |= !r.merged.empty();
    for (size_t f = 0; f < nf; ++f) {
      const Value& v = r.values[f];
      ColumnWriter& c = columns[f];
      if (v.is_null) {
        if (c.nulls == nullptr) {
          c.nulls = c.col->mutable_nulls();
          c.nulls->assign((n + 7) / 8, '\0');
        }
        (*c.nulls)[i / 8] = static_cast<char>((*c.nulls)[i / 8] | (1 << (i % 8)));
      } else if (!c.integral) {
        c.string_bytes += v.s.size();
      }
    }
  }

  std::string* key_data = out->mutable_key_data();
  key_data->resize(key_bytes);
  char* keys = key_data->data();
  auto* key_ends = out->mutable_key_ends();
  key_ends->Resize(ni, 0);
  uint32_t* key_end = key_ends->mutable_data();
  for (ColumnWriter& c : columns) {
    if (c.integral) {
      c.col->mutable_ints()->Resize(ni, 0);
      c.ints = c.col->mutable_ints()->mutable_data();
    } else {
      c.col->mutable_string_data()->resize(c.string_bytes);
      c.data = c.col->mutable_string_data()->data();
      c.col->mutable_string_ends()->Resize(ni, 0);
      c.ends = c.col->mutable_string_ends()->mutable_data();
    }
  }
  uint32_t keys_end = 0;
  for (size_t i = 0; i < n; ++i) {
    const Record& r = records[i];
    std::memcpy(keys + keys_end, r.key.data(), r.key.size());
    keys_end += static_cast<uint32_t>(r.key.size());
    key_end[i] = keys_end;
    for (size_t f = 0; f < nf; ++f) {
      const Value& v = r.values[f];
      ColumnWriter& c = columns[f];
      if (c.integral) {
        c.ints[i] = v.is_null ? 0 : v.i;  // a NULL keeps its slot as 0
      } else {
        if (!v.is_null) {
          std::memcpy(c.data + c.end, v.s.data(), v.s.size());
          c.end += static_cast<uint32_t>(v.s.size());
        }
        c.ends[i] = c.end;  // a NULL keeps its slot as ""
      }
    }
  }

  if (any_merged) {
    out->mutable_merged()->Reserve(ni);
    for (const Record& r : records) {
      auto* m = out->add_merged();
      for (const auto& k : r.merged) {
        auto* mk = m->add_keys();
        mk->set_source(k.source);
        mk->set_key(k.key);
      }
    }
  }
  out->set_key_checksum(batch.KeyChecksumValue());
  out->mutable_positions()->Assign(batch.positions.begin(), batch.positions.end());
  if (!batch.guest_rows.empty()) out->set_guest_rows(batch.guest_rows);
}

Result<RecordBatch> DecodeBatch(const v1::RecordBatch& in) {
  auto corrupt = [&in](const std::string& what) {
    return Status::Corruption("batch " + BatchName(in.id()) + ": " + what);
  };
  RecordBatch b;
  b.id = in.id();
  b.epoch = in.epoch();
  b.range = in.range();
  if (static_cast<size_t>(in.schema().fields_size()) > limits::kMaxColumns) {
    return corrupt(std::to_string(in.schema().fields_size()) + " schema fields (at most " +
                   std::to_string(limits::kMaxColumns) + ")");
  }
  SLUICE_ASSIGN_OR_RETURN(b.schema, DecodeSchema(in.schema()));

  // Validate everything before touching a byte, so that no offset read below
  // can fall outside its buffer, and nothing is allocated past the limits.
  const int n = in.key_ends_size();
  const uint64_t values = static_cast<uint64_t>(n) * static_cast<uint64_t>(in.columns_size());
  if (static_cast<uint64_t>(n) > limits::kMaxBatchRecords ||
      static_cast<size_t>(in.columns_size()) > limits::kMaxColumns ||
      values > limits::kMaxBatchValues) {
    return corrupt(std::to_string(n) + " records of " + std::to_string(in.columns_size()) +
                   " columns: past the limits (" + std::to_string(limits::kMaxBatchRecords) +
                   " records, " + std::to_string(limits::kMaxColumns) + " columns, " +
                   std::to_string(limits::kMaxBatchValues) + " values)");
  }
  if (in.source_index_size() != n || in.content_hashes_size() != n || in.lines_size() != n) {
    return corrupt("ragged record identity");
  }
  if (!ValidEnds(in.key_ends(), in.key_data().size())) return corrupt("bad key offsets");
  const uint32_t source_count = static_cast<uint32_t>(in.source_names_size());
  for (uint32_t s : in.source_index()) {
    if (s >= source_count) return corrupt("source index out of range");
  }
  const size_t nf = b.schema.fields.size();
  if (in.columns_size() != static_cast<int>(nf)) {
    return corrupt("column count differs from schema");
  }
  if (in.merged_size() != 0 && in.merged_size() != n) return corrupt("ragged merged keys");
  const size_t mask_size = (static_cast<size_t>(n) + 7) / 8;
  std::vector<ColumnReader> readers(nf);
  for (size_t f = 0; f < nf; ++f) {
    const v1::Column& col = in.columns(static_cast<int>(f));
    ColumnReader& c = readers[f];
    c.integral = IsIntegral(b.schema.fields[f].type);
    const std::string& name = b.schema.fields[f].name;
    const bool right_length = c.integral ? col.ints_size() == n && col.string_ends_size() == 0 &&
                                               col.string_data().empty()
                                         : col.string_ends_size() == n && col.ints_size() == 0;
    if (!right_length) return corrupt("column " + name + " has the wrong length");
    if (!c.integral && !ValidEnds(col.string_ends(), col.string_data().size())) {
      return corrupt("column " + name + " has bad string offsets");
    }
    if (!col.nulls().empty()) {
      if (col.nulls().size() != mask_size) {
        return corrupt("column " + name + " has a bad null mask");
      }
      c.nulls = &col.nulls();
    }
    c.ints = col.ints().data();
    c.data = col.string_data().data();
    c.ends = col.string_ends().data();
  }

  // Record by record, so that each record's values are filled while hot.
  b.records.resize(n);
  const char* keys = in.key_data().data();
  const uint32_t* key_ends = in.key_ends().data();
  const bool has_merged = in.merged_size() == n && n > 0;
  for (int i = 0; i < n; ++i) {
    Record& r = b.records[i];
    r.source = in.source_names(static_cast<int>(in.source_index(i)));
    const uint32_t key_begin = i == 0 ? 0 : key_ends[i - 1];
    r.key.assign(keys + key_begin, key_ends[i] - key_begin);
    r.content_hash = in.content_hashes(i);
    r.line = in.lines(i);
    r.values.resize(nf);
    for (size_t f = 0; f < nf; ++f) {
      const ColumnReader& c = readers[f];
      if (c.nulls != nullptr && NullBit(*c.nulls, i)) continue;  // stays Value::Null()
      Value& v = r.values[f];
      v.is_null = false;
      if (c.integral) {
        v.i = c.ints[i];
      } else {
        const uint32_t begin = i == 0 ? 0 : c.ends[i - 1];
        v.s.assign(c.data + begin, c.ends[i] - begin);
      }
    }
    if (has_merged) {
      const auto& merged = in.merged(i).keys();
      r.merged.reserve(merged.size());
      for (const auto& mk : merged) r.merged.push_back({mk.source(), mk.key()});
    }
  }
  if (b.KeyChecksumValue() != in.key_checksum()) return corrupt("key checksum mismatch");
  if (in.positions_size() != 0) {
    if (in.positions_size() != static_cast<int>(b.records.size())) {
      return corrupt(std::to_string(in.positions_size()) + " positions for " +
                     std::to_string(b.records.size()) + " records");
    }
    b.positions.assign(in.positions().begin(), in.positions().end());
  }
  b.guest_rows = in.guest_rows();
  return b;
}

namespace {

using google::protobuf::FieldDescriptor;

bool Valid(const std::string& text) { return FindInvalidUtf8(text) == std::string_view::npos; }

}  // namespace

namespace {

// Reads a varint at `*p`; false past `end` or past ten bytes.
bool ReadVarint(const uint8_t** p, const uint8_t* end, uint64_t* value) {
  *value = 0;
  for (int shift = 0; shift < 64 && *p < end; shift += 7) {
    const uint8_t byte = *(*p)++;
    *value |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

// What the wire check needs of a message type, by field number: whether
// the field is a string, and the table of a message field's type. Built once
// per type and never freed; a hash lookup per field cost as much as the
// serialization.
struct WireTable {
  std::vector<bool> strings;
  std::vector<const WireTable*> messages;
};

const WireTable& TableOf(const google::protobuf::Descriptor& type) {
  static std::mutex mu;
  static auto* tables = new std::map<const google::protobuf::Descriptor*, WireTable>();
  std::lock_guard<std::mutex> lock(mu);
  struct Build {
    std::map<const google::protobuf::Descriptor*, WireTable>* tables;
    const WireTable& operator()(const google::protobuf::Descriptor& t) const {
      auto [it, added] = tables->try_emplace(&t);
      if (!added) return it->second;  // built, or being built higher up (recursive types)
      WireTable& table = it->second;
      int max = 0;
      for (int i = 0; i < t.field_count(); ++i) max = std::max(max, t.field(i)->number());
      table.strings.assign(max + 1, false);
      table.messages.assign(max + 1, nullptr);
      for (int i = 0; i < t.field_count(); ++i) {
        const FieldDescriptor* f = t.field(i);
        if (f->type() == FieldDescriptor::TYPE_STRING) table.strings[f->number()] = true;
        if (f->type() == FieldDescriptor::TYPE_MESSAGE) {
          table.messages[f->number()] = &(*this)(*f->message_type());
        }
      }
      return table;
    }
  };
  return Build{tables}(type);
}

// True when a string field of the message serialized in [p, end), of the
// type of `table`, is not valid UTF-8: the wire format walked field by
// field, with no message built (a reflection walk cost four times the
// serialization).
bool WireHasInvalidUtf8(const WireTable& table, const uint8_t* p, const uint8_t* end) {
  while (p < end) {
    uint64_t tag = 0, n = 0;
    if (!ReadVarint(&p, end, &tag)) return false;  // not ours to judge: the parser refuses it
    switch (tag & 7) {
      case 0:
        if (!ReadVarint(&p, end, &n)) return false;
        break;
      case 1:
      case 5: {
        const ptrdiff_t width = (tag & 7) == 1 ? 8 : 4;
        if (end - p < width) return false;
        p += width;
        break;
      }
      case 2: {
        if (!ReadVarint(&p, end, &n) || n > static_cast<uint64_t>(end - p)) return false;
        const uint64_t number = tag >> 3;
        if (number < table.strings.size()) {
          if (table.strings[number] &&
              FindInvalidUtf8({reinterpret_cast<const char*>(p), n}) != std::string_view::npos) {
            return true;
          }
          const WireTable* child = table.messages[number];
          if (child != nullptr && WireHasInvalidUtf8(*child, p, p + n)) return true;
        }
        p += n;
        break;
      }
      default:
        return false;  // groups: not in proto3
    }
  }
  return false;
}

}  // namespace

bool HasInvalidUtf8(const google::protobuf::Message& message) {
  const std::string wire = message.SerializeAsString();
  const auto* p = reinterpret_cast<const uint8_t*>(wire.data());
  return WireHasInvalidUtf8(TableOf(*message.GetDescriptor()), p, p + wire.size());
}

std::string SerializeForWire(const google::protobuf::Message& message) {
  std::string wire = message.SerializeAsString();
  const auto* p = reinterpret_cast<const uint8_t*>(wire.data());
  if (!WireHasInvalidUtf8(TableOf(*message.GetDescriptor()), p, p + wire.size())) return wire;
  std::unique_ptr<google::protobuf::Message> fixed(message.New());
  fixed->CopyFrom(message);
  MakeValidUtf8(fixed.get());
  return fixed->SerializeAsString();
}

size_t MakeValidUtf8(google::protobuf::Message* message) {
  const google::protobuf::Reflection* reflection = message->GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(*message, &fields);
  size_t changed = 0;
  for (const FieldDescriptor* f : fields) {
    if (f->type() == FieldDescriptor::TYPE_STRING) {
      std::string scratch;
      if (f->is_repeated()) {
        const int count = reflection->FieldSize(*message, f);
        for (int i = 0; i < count; ++i) {
          const std::string& text =
              reflection->GetRepeatedStringReference(*message, f, i, &scratch);
          if (Valid(text)) continue;
          reflection->SetRepeatedString(message, f, i, ToValidUtf8(text));
          ++changed;
        }
      } else {
        const std::string& text = reflection->GetStringReference(*message, f, &scratch);
        if (Valid(text)) continue;
        reflection->SetString(message, f, ToValidUtf8(text));
        ++changed;
      }
    } else if (f->type() == FieldDescriptor::TYPE_MESSAGE) {
      // Map entries are messages too: their string keys and values are fixed here.
      if (f->is_repeated()) {
        const int count = reflection->FieldSize(*message, f);
        for (int i = 0; i < count; ++i) {
          changed += MakeValidUtf8(reflection->MutableRepeatedMessage(message, f, i));
        }
      } else {
        changed += MakeValidUtf8(reflection->MutableMessage(message, f));
      }
    }
  }
  return changed;
}

}  // namespace sluice
