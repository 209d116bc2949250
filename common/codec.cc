#include "common/codec.h"

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

void EncodeBatch(const RecordBatch& batch, v1::RecordBatch* out) {
  *out->mutable_id() = batch.id;
  out->set_epoch(batch.epoch);
  *out->mutable_range() = batch.range;
  EncodeSchema(batch.schema, out->mutable_schema());
  const size_t n = batch.records.size();
  const size_t nf = batch.schema.fields.size();
  bool any_merged = false;
  out->mutable_sources()->Reserve(static_cast<int>(n));
  out->mutable_keys()->Reserve(static_cast<int>(n));
  for (const auto& r : batch.records) {
    out->add_sources(r.source);
    out->add_keys(r.key);
    out->add_content_hashes(r.content_hash);
    out->add_lines(r.line);
    any_merged |= !r.merged.empty();
  }
  for (size_t f = 0; f < nf; ++f) {
    auto* col = out->add_columns();
    bool integral = IsIntegral(batch.schema.fields[f].type);
    std::string nulls((n + 7) / 8, '\0');
    bool any_null = false;
    if (integral) col->mutable_ints()->Reserve(static_cast<int>(n));
    for (size_t i = 0; i < n; ++i) {
      const Value& v = batch.records[i].values[f];
      if (v.is_null) {
        nulls[i / 8] = static_cast<char>(nulls[i / 8] | (1 << (i % 8)));
        any_null = true;
      }
      if (integral) {
        col->add_ints(v.is_null ? 0 : v.i);
      } else {
        col->add_strings(v.is_null ? std::string() : v.s);
      }
    }
    if (any_null) col->set_nulls(std::move(nulls));
  }
  if (any_merged) {
    for (const auto& r : batch.records) {
      auto* m = out->add_merged();
      for (const auto& k : r.merged) {
        auto* mk = m->add_keys();
        mk->set_source(k.source);
        mk->set_key(k.key);
      }
    }
  }
  out->set_key_checksum(batch.KeyChecksumValue());
}

Result<RecordBatch> DecodeBatch(const v1::RecordBatch& in) {
  RecordBatch b;
  b.id = in.id();
  b.epoch = in.epoch();
  b.range = in.range();
  SLUICE_ASSIGN_OR_RETURN(b.schema, DecodeSchema(in.schema()));
  const int n = in.keys_size();
  if (in.sources_size() != n || in.content_hashes_size() != n || in.lines_size() != n) {
    return Status::Corruption("batch " + BatchName(in.id()) + ": ragged record identity");
  }
  if (in.columns_size() != static_cast<int>(b.schema.fields.size())) {
    return Status::Corruption("batch " + BatchName(in.id()) + ": column count differs from schema");
  }
  if (in.merged_size() != 0 && in.merged_size() != n) {
    return Status::Corruption("batch " + BatchName(in.id()) + ": ragged merged keys");
  }
  b.records.resize(n);
  const size_t nf = b.schema.fields.size();
  for (int i = 0; i < n; ++i) {
    Record& r = b.records[i];
    r.source = in.sources(i);
    r.key = in.keys(i);
    r.content_hash = in.content_hashes(i);
    r.line = in.lines(i);
    r.values.resize(nf);
    if (in.merged_size() == n) {
      for (const auto& mk : in.merged(i).keys()) r.merged.push_back({mk.source(), mk.key()});
    }
  }
  for (size_t f = 0; f < nf; ++f) {
    const auto& col = in.columns(static_cast<int>(f));
    bool integral = IsIntegral(b.schema.fields[f].type);
    if ((integral ? col.ints_size() : col.strings_size()) != n) {
      return Status::Corruption("batch " + BatchName(in.id()) + ": column " +
                                b.schema.fields[f].name + " has the wrong length");
    }
    const std::string& nulls = col.nulls();
    for (int i = 0; i < n; ++i) {
      Value& v = b.records[i].values[f];
      bool is_null = !nulls.empty() && (static_cast<unsigned char>(nulls[i / 8]) >> (i % 8)) & 1;
      v.is_null = is_null;
      if (is_null) continue;
      if (integral) {
        v.i = col.ints(i);
      } else {
        v.s = col.strings(i);
      }
    }
  }
  if (b.KeyChecksumValue() != in.key_checksum()) {
    return Status::Corruption("batch " + BatchName(in.id()) + ": key checksum mismatch");
  }
  return b;
}

}  // namespace sluice
