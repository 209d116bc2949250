#include "loader/references.h"

#include <gtest/gtest.h>

#include <map>

#include "loader/references_test_util.h"

namespace sluice {
namespace {

Plan TwoEntityPlan() {
  Plan plan;
  Entity interaction;
  interaction.name = "interaction";
  ModelField ref;
  ref.name = "hcp_ref";
  ref.type = FieldType::kReference;
  ref.references = "hcp";
  ModelField notes;
  notes.name = "notes";
  interaction.fields = {ref, notes};
  plan.model.entities.push_back(interaction);
  SourceSpec visits;
  visits.name = "us_visits";
  visits.options["references_from"] = "us";
  SourceSpec calls;
  calls.name = "eu";
  plan.sources = {visits, calls};
  return plan;
}

Record Child(const std::string& source, const std::string& key, std::optional<std::string> ref) {
  Record r;
  r.source = source;
  r.key = key;
  r.values = {ref ? Value::Str(*ref) : Value::Null(), Value::Str("n")};
  return r;
}

TEST(References, RewrittenToParentsAndSurvivorsOrphansRejected) {
  Plan plan = TwoEntityPlan();
  const Entity& entity = plan.model.entities[0];
  XrefTarget target;
  target.xref[{"hcp", "us", "US01"}] = 7;  // merged into the survivor with id 7
  target.xref[{"hcp", "us", "US02"}] = 9;
  target.xref[{"hcp", "eu", "EU0001"}] = 7;
  RecordBatch batch;
  batch.schema = entity.ToSchema();
  batch.records = {Child("us_visits", "V1", "US01"), Child("us_visits", "V2", "US02"),
                   Child("us_visits", "V3", "US99"), Child("eu", "C1", "EU0001"),
                   Child("eu", "C2", "EU0000000"),   Child("eu", "C3", std::nullopt),
                   Child("us_visits", "V4", "US02")};
  batch.RehashAll();
  const uint64_t before = batch.records[0].content_hash;
  auto out = ResolveReferences(plan, entity, &target, &batch);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(target.lookups, 2);  // one per (source, field), whatever the number of children
  EXPECT_EQ(batch.records[0].values[0].s, "7");
  EXPECT_EQ(batch.records[1].values[0].s, "9");
  EXPECT_EQ(batch.records[3].values[0].s, "7");
  EXPECT_EQ(batch.records[6].values[0].s, "9");
  EXPECT_TRUE(batch.records[5].values[0].is_null);
  EXPECT_NE(batch.records[0].content_hash, before);
  EXPECT_EQ(batch.records[0].content_hash, ContentHash(batch.schema, batch.records[0].values));
  EXPECT_EQ(out->rewritten, 4u);
  ASSERT_EQ(out->orphans.size(), 2u);
  EXPECT_EQ(out->orphaned, (std::vector<bool>{false, false, true, false, true, false, false}));
  EXPECT_EQ(out->orphans[0].key(), "V3");
  EXPECT_EQ(out->orphans[0].reason(), "orphan reference: hcp US99 not found in source us");
  EXPECT_EQ(out->orphans[0].rule(), "reference");
  EXPECT_EQ(out->orphans[0].field(), "hcp_ref");
  EXPECT_EQ(out->orphans[0].stage(), "load");
  EXPECT_EQ(out->orphans[1].reason(), "orphan reference: hcp EU0000000 not found in source eu");
  EXPECT_FALSE(out->orphans[1].suggestion().empty());
}

// One resolvable child and one orphan, under a `reference` rule of `severity`.
struct RuleCase {
  Plan plan = TwoEntityPlan();
  XrefTarget target;
  RecordBatch batch;
  Result<ReferenceOutcome> out = Status::Internal("not run");
  explicit RuleCase(const std::string& severity) {
    RuleSpec rule;
    rule.name = "hcp_known";
    rule.kind = "reference";
    rule.field = "hcp_ref";
    rule.severity = severity;
    plan.rules["interaction"] = {rule};
    const Entity& entity = plan.model.entities[0];
    target.xref[{"hcp", "eu", "EU0001"}] = 7;
    batch.schema = entity.ToSchema();
    batch.records = {Child("eu", "C1", "EU0001"), Child("eu", "C2", "EU0000000")};
    batch.RehashAll();
    out = ResolveReferences(plan, entity, &target, &batch);
  }
};

TEST(References, RuleFoundByEntityAndField) {
  RuleCase c("error");
  ASSERT_NE(FindReferenceRule(c.plan, "interaction", "hcp_ref"), nullptr);
  EXPECT_EQ(FindReferenceRule(c.plan, "interaction", "hcp_ref")->name, "hcp_known");
  EXPECT_EQ(FindReferenceRule(c.plan, "interaction", "notes"), nullptr);
  EXPECT_EQ(FindReferenceRule(c.plan, "hcp", "hcp_ref"), nullptr);
}

TEST(References, ErrorRuleRejectsTheOrphanUnderTheRulesName) {
  RuleCase c("error");
  ASSERT_TRUE(c.out.ok()) << c.out.status().ToString();
  ASSERT_EQ(c.out->orphans.size(), 1u);
  EXPECT_EQ(c.out->orphaned, (std::vector<bool>{false, true}));
  const v1::Fate& f = c.out->orphans[0];
  EXPECT_EQ(f.kind(), v1::FATE_REJECTED);
  EXPECT_EQ(f.rule(), "hcp_known");
  EXPECT_EQ(f.key(), "C2");
  EXPECT_EQ(f.field(), "hcp_ref");
  EXPECT_EQ(f.value(), "EU0000000");
  EXPECT_EQ(f.reason(), "orphan reference: hcp EU0000000 not found in source eu");
  EXPECT_TRUE(c.out->warnings.empty());
  EXPECT_TRUE(c.out->review_items.empty());
  EXPECT_EQ(c.batch.records[0].values[0].s, "7");
}

TEST(References, WarningRuleLoadsTheOrphanWithANullReference) {
  RuleCase c("warning");
  ASSERT_TRUE(c.out.ok()) << c.out.status().ToString();
  EXPECT_TRUE(c.out->orphans.empty());
  EXPECT_TRUE(c.out->orphaned.empty());  // nothing held back from the load
  ASSERT_EQ(c.out->warnings.size(), 1u);
  const v1::Fate& f = c.out->warnings[0];
  EXPECT_EQ(f.kind(), v1::FATE_WARNING);
  EXPECT_EQ(f.rule(), "hcp_known");
  EXPECT_EQ(f.key(), "C2");
  EXPECT_EQ(f.field(), "hcp_ref");
  EXPECT_EQ(f.value(), "EU0000000");
  EXPECT_EQ(f.reason(),
            "orphan reference: hcp EU0000000 not found in source eu; loaded with hcp_ref NULL");
  const Record& r = c.batch.records[1];
  EXPECT_TRUE(r.values[0].is_null);
  EXPECT_EQ(r.values[1].s, "n");
  EXPECT_EQ(r.content_hash, ContentHash(c.batch.schema, r.values));
  EXPECT_EQ(c.batch.records[0].values[0].s, "7");
  EXPECT_EQ(c.out->rewritten, 1u);
}

TEST(References, ReviewRuleHoldsTheOrphanForASteward) {
  RuleCase c("review");
  ASSERT_TRUE(c.out.ok()) << c.out.status().ToString();
  ASSERT_EQ(c.out->orphans.size(), 1u);
  EXPECT_EQ(c.out->orphaned, (std::vector<bool>{false, true}));
  EXPECT_EQ(c.out->orphans[0].kind(), v1::FATE_REVIEW);
  EXPECT_EQ(c.out->orphans[0].rule(), "hcp_known");
  EXPECT_TRUE(c.out->warnings.empty());
  ASSERT_EQ(c.out->review_items.size(), 1u);
  const v1::ReviewItem& item = c.out->review_items[0];
  EXPECT_EQ(item.kind(), "record");
  EXPECT_EQ(item.entity(), "interaction");
  EXPECT_EQ(item.source(), "eu");
  EXPECT_EQ(item.key(), "C2");
  EXPECT_EQ(item.stage(), "load");
  EXPECT_EQ(item.rule(), "hcp_known");
  EXPECT_EQ(item.field(), "hcp_ref");
  EXPECT_EQ(item.value(), "EU0000000");
  EXPECT_EQ(item.record_json(), R"({"hcp_ref":"EU0000000","notes":"n"})");
  // The held record keeps its source key: a steward's correction starts from it.
  EXPECT_EQ(c.batch.records[1].values[0].s, "EU0000000");
}

TEST(References, SelfReferencesAreLeftAlone) {
  Plan plan;
  Entity hcp;
  hcp.name = "hcp";
  ModelField parent;
  parent.name = "parent_id";
  parent.type = FieldType::kReference;
  parent.references = "hcp";
  hcp.fields = {parent};
  XrefTarget target;
  RecordBatch batch;
  batch.schema = hcp.ToSchema();
  Record r;
  r.source = "crm";
  r.key = "A";
  r.values = {Value::Str("B")};
  batch.records = {r};
  auto out = ResolveReferences(plan, hcp, &target, &batch);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(target.lookups, 0);
  EXPECT_TRUE(out->orphans.empty());
  EXPECT_EQ(batch.records[0].values[0].s, "B");
}

}  // namespace
}  // namespace sluice
