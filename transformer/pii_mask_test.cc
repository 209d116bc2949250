#include "transformer/pii_mask.h"

#include <gtest/gtest.h>

#include "common/audit/lineage.h"
#include "transformer/transform.h"

namespace sluice {
namespace {

// The real values of the test's people: none may come out of the mask.
const std::vector<std::string> kReal = {"Dupont",    "Camille",    "camille.dupont@example.fr",
                                        "612345678", "14/07/1969", "1690775123456",
                                        "BADPHONE"};

ModelField Field(std::string name, FieldType type, bool pii) {
  ModelField f;
  f.name = std::move(name);
  f.type = type;
  f.pii = pii;
  return f;
}

FieldMapping From(std::string target, std::string from) {
  FieldMapping m;
  m.target = std::move(target);
  m.from = std::move(from);
  return m;
}

Plan MaskedPlan(PiiMode mode) {
  Plan plan;
  Entity hcp;
  hcp.name = "hcp";
  hcp.fields = {
      Field("last_name", FieldType::kString, true), Field("first_name", FieldType::kString, true),
      Field("email", FieldType::kString, true),     Field("phone", FieldType::kString, true),
      Field("birth_date", FieldType::kDate, true),  Field("national_id", FieldType::kString, true),
      Field("specialty", FieldType::kString, false)};
  plan.model.entities.push_back(hcp);
  SourceSpec crm;
  crm.name = "crm";
  crm.kind = "csv";
  crm.options["key"] = "id";
  plan.sources.push_back(crm);
  Mapping m;
  m.entity = "hcp";
  m.source = "crm";
  FieldMapping last = From("last_name", "full_name"), first = From("first_name", "full_name");
  last.split = first.split = "name";
  last.part = "last";
  first.part = "first";
  FieldMapping email = From("email", "mail");
  email.email = true;
  FieldMapping phone = From("phone", "tel");
  phone.phone = true;
  phone.region = "FR";
  FieldMapping dob = From("birth_date", "dob");
  dob.formats = {"%d/%m/%Y"};
  FieldMapping spec = From("specialty", "spec");
  spec.has_value_map = true;
  spec.value_map = {{"GP", "general_practice"}};
  spec.on_error = "review";
  m.fields = {last, first, email, phone, dob, From("national_id", "nir"), spec};
  plan.mappings.push_back(m);
  plan.pii.mode = mode;
  plan.pii.key = "rehearsal-key-0123456789";
  return plan;
}

RecordBatch Source(const std::vector<std::vector<std::string>>& rows) {
  RecordBatch batch;
  for (const char* c : {"id", "full_name", "mail", "tel", "dob", "nir", "spec"}) {
    batch.schema.fields.push_back({c, FieldType::kString});
  }
  for (const auto& row : rows) {
    Record& r = batch.records.emplace_back();
    r.source = "crm";
    r.key = row[0];
    for (const std::string& v : row) r.values.push_back(Value::Str(v));
  }
  return batch;
}

struct Output {
  RecordBatch out;
  std::vector<v1::Fate> fates;
  std::vector<v1::ReviewItem> items;
  std::vector<LineageChange> lineage;
};

Output Transform(const Plan& plan, const RecordBatch& in) {
  Output o;
  auto t = EntityTransformer::Create(plan, "hcp", "crm", in.schema);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  if (!t.ok()) return o;
  LineageWriter lineage;
  (*t)->Apply(in, &o.out, &o.fates, &lineage, &o.items);
  auto decoded = DecodeLineage(lineage.Finish());
  EXPECT_TRUE(decoded.ok());
  if (decoded.ok()) o.lineage = *decoded;
  return o;
}

// Every text the transformer wrote about the batch, in one string.
std::string Everything(const Output& o) {
  std::string all;
  for (const Record& r : o.out.records) {
    for (size_t f = 0; f < r.values.size(); ++f) {
      all += FormatValue(o.out.schema.fields[f], r.values[f]).value_or("~") + "|";
    }
  }
  for (const v1::Fate& f : o.fates) all += f.DebugString();
  for (const v1::ReviewItem& i : o.items) all += i.DebugString();
  for (const LineageChange& c : o.lineage) {
    all += c.before.value_or("~") + "|" + c.after.value_or("~") + "|";
  }
  return all;
}

const RecordBatch kPeople = Source({
    {"1", "Camille Dupont", "camille.dupont@example.fr", "06 12 34 56 78", "14/07/1969",
     "1690775123456", "GP"},
    // Held for review (unmapped specialty): its record goes to the steward.
    {"2", "Camille Dupont", "Camille.Dupont@example.fr", "+33 6 12 34 56 78", "14/07/1969",
     "1690775123456", "Zorglub-Ltd"},
    // Rejected: the phone does not parse.
    {"3", "Camille Dupont", "camille.dupont@example.fr", "BADPHONE", "14/07/1969", "1690775123456",
     "GP"},
});

TEST(PiiMaskTest, NoRealValueLeavesTheTransformer) {
  const Output o = Transform(MaskedPlan(PiiMode::kPseudonymise), kPeople);
  ASSERT_EQ(o.out.records.size(), 1u);
  ASSERT_EQ(o.fates.size(), 2u);
  ASSERT_EQ(o.items.size(), 1u);
  const std::string all = Everything(o);
  for (const std::string& real : kReal) EXPECT_EQ(all.find(real), std::string::npos) << real;
  // The record still holds what it held, in the same shapes.
  const auto text = [&](size_t f) {
    return FormatValue(o.out.schema.fields[f], o.out.records[0].values[f]).value_or("~");
  };
  EXPECT_NE(text(0), "Dupont");
  EXPECT_TRUE(text(2).ends_with("@example.invalid")) << text(2);
  EXPECT_TRUE(text(3).starts_with("+33")) << text(3);
  EXPECT_EQ(text(3).size(), std::string("+33612345678").size());
  EXPECT_TRUE(text(4).starts_with("1969-")) << text(4);
  EXPECT_EQ(text(5).size(), 13u);
  EXPECT_EQ(text(6), "general_practice");  // not pii
  EXPECT_NE(o.items[0].record_json().find("\"spec\":\"Zorglub"), std::string::npos)
      << "a value of a field not marked pii is shown as it is: " << o.items[0].record_json();
}

TEST(PiiMaskTest, SamePersonSamePseudonymsInEveryRunAndSource) {
  const Plan plan = MaskedPlan(PiiMode::kPseudonymise);
  const Output a = Transform(plan, kPeople), b = Transform(plan, kPeople);
  EXPECT_EQ(Everything(a), Everything(b));
  // The second source writes the same person differently: once normalised
  // (e-mail case, phone format) the pseudonyms are equal.
  const Output other =
      Transform(plan, Source({{"9", "Camille Dupont", "CAMILLE.DUPONT@example.fr", "+33612345678",
                               "14/07/1969", "1690775123456", "GP"}}));
  ASSERT_EQ(other.out.records.size(), 1u);
  EXPECT_EQ(other.out.records[0].values, a.out.records[0].values);
  Plan rekeyed = plan;
  rekeyed.pii.key = "another-key-0123456789";
  EXPECT_NE(Transform(rekeyed, kPeople).out.records[0].values, a.out.records[0].values);
}

TEST(PiiMaskTest, DropLeavesPiiFieldsNull) {
  const Output o = Transform(MaskedPlan(PiiMode::kDrop), kPeople);
  ASSERT_EQ(o.out.records.size(), 1u);
  for (size_t f = 0; f < 6; ++f) EXPECT_TRUE(o.out.records[0].values[f].is_null) << f;
  EXPECT_FALSE(o.out.records[0].values[6].is_null);
  const std::string all = Everything(o);
  for (const std::string& real : kReal) EXPECT_EQ(all.find(real), std::string::npos) << real;
}

TEST(PiiMaskTest, PseudonymiseNeedsAKey) {
  Plan plan = MaskedPlan(PiiMode::kPseudonymise);
  plan.pii.key = "";
  auto t = EntityTransformer::Create(plan, "hcp", "crm", kPeople.schema);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("pii.key"), std::string::npos) << t.status().message();
}

}  // namespace
}  // namespace sluice
