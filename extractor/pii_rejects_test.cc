#include "extractor/pii_rejects.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

Plan PlanWithPii(PiiMode mode) {
  Plan plan;
  Entity hcp;
  hcp.name = "hcp";
  ModelField name;
  name.name = "last_name";
  name.pii = true;
  ModelField city;
  city.name = "city";
  hcp.fields = {name, city};
  plan.model.entities.push_back(hcp);
  Mapping crm;  // fills a pii field
  crm.entity = "hcp";
  crm.source = "crm";
  crm.fields.push_back({.target = "last_name", .from = "last"});
  Mapping erp;  // does not
  erp.entity = "hcp";
  erp.source = "erp";
  erp.fields.push_back({.target = "city", .from = "city"});
  plan.mappings = {crm, erp};
  plan.pii.mode = mode;
  return plan;
}

TEST(PiiRejectsTest, OnlySourcesFillingPiiFieldsUnderAMode) {
  EXPECT_TRUE(SourceCarriesPii(PlanWithPii(PiiMode::kPseudonymise), "crm"));
  EXPECT_TRUE(SourceCarriesPii(PlanWithPii(PiiMode::kDrop), "crm"));
  EXPECT_FALSE(SourceCarriesPii(PlanWithPii(PiiMode::kPseudonymise), "erp"));
  EXPECT_FALSE(SourceCarriesPii(PlanWithPii(PiiMode::kNone), "crm"));
}

TEST(PiiRejectsTest, TheRawRowIsWithheldAndItsWordsRedactedFromTheReason) {
  std::vector<v1::Fate> rejects(1);
  rejects[0].set_key("C5");
  rejects[0].set_line(6);
  rejects[0].set_value("C5,Eulalie,Marchetti,06 98 76 54 32");
  rejects[0].set_reason("unexpected 'Marchetti' after field 2");
  WithholdRawRows(PlanWithPii(PiiMode::kPseudonymise), &rejects);
  EXPECT_EQ(rejects[0].value(), "[withheld: 35 bytes; pii mode pseudonymise]");
  EXPECT_EQ(rejects[0].reason(), "unexpected '***' after field 2");
  EXPECT_EQ(rejects[0].key(), "C5");
  EXPECT_EQ(rejects[0].line(), 6u);
}

TEST(PiiRejectsTest, AMalformedRowIsKeyedByItsLine) {
  // A stray quote in the key column: what stands there is a name.
  std::vector<v1::Fate> rejects(2);
  rejects[0].set_rule("malformed_row");
  rejects[0].set_key("Jo\"sephine");
  rejects[0].set_line(8);
  rejects[0].set_value("Jo\"sephine,Kowalczyk,Lyon");
  rejects[1].set_rule("invalid_utf8");  // cut right: its key is the key column's
  rejects[1].set_key("C9");
  rejects[1].set_line(9);
  rejects[1].set_value("C9,Kowalczyk,Ly\xEF\xBF\xBDn");
  WithholdRawRows(PlanWithPii(PiiMode::kDrop), &rejects);
  EXPECT_EQ(rejects[0].key(), "line:8");
  EXPECT_EQ(rejects[1].key(), "C9");
}

}  // namespace
}  // namespace sluice
