// Self-references through the loader and a real SQLite target: parents
// later in the load, parents merged into survivors, orphans under each
// severity, cycles in the data, a loader restart and a second run.
#include "loader/self_references.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "common/audit/loaded_pack.h"
#include "common/core/test_dir_testing.h"
#include "common/plan/plan_test_util.h"
#include "loader/load_worker.h"

namespace sluice {
namespace {

class SelfReferenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing_util::FreshTestDir("sluice-selfref");
    plan_.model.entities.push_back(plan_testing::SelfReferencingHcp());
    SourceSpec crm;
    crm.name = "crm";
    plan_.sources = {crm};
    plan_.target.kind = "sqlite";
    plan_.target.path = (dir_ / "target.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  const Entity& hcp() const { return plan_.model.entities[0]; }

  void Severity(const std::string& severity) {
    RuleSpec rule;
    rule.name = "parent_known";
    rule.kind = "reference";
    rule.field = "parent_id";
    rule.severity = severity;
    plan_.rules["hcp"] = {rule};
  }

  static Record Rec(const std::string& key, std::optional<std::string> parent,
                    std::vector<SourceKey> merged = {}) {
    Record r;
    r.source = "crm";
    r.key = key;
    r.values = {Value::Str("name " + key), parent ? Value::Str(*parent) : Value::Null()};
    r.merged = std::move(merged);
    return r;
  }

  RecordBatch Batch(uint64_t seq, uint64_t of, std::vector<Record> records,
                    const std::string& run = "run1") const {
    RecordBatch b;
    b.id.set_run_id(run);
    b.id.set_wave(0);
    b.id.set_entity("hcp");
    b.id.set_source("dedup/0");
    b.id.set_sequence(seq);
    b.epoch = 1;
    b.range.set_output_batches(of);
    b.schema = hcp().ToSchema();
    b.records = std::move(records);
    b.RehashAll();
    return b;
  }

  // Feeds `batches` to a loader of `run` and returns the commits it sent.
  std::vector<v1::Commit> Load(LoadLogic& loader, std::vector<RecordBatch> batches) {
    std::vector<v1::Commit> commits;
    for (RecordBatch& b : batches) {
      StageEmitter out;
      Status st = loader.OnBatch(std::move(b), out);
      EXPECT_TRUE(st.ok()) << st.ToString();
      for (const v1::Envelope& env : out.messages()) {
        if (env.has_commit()) commits.push_back(env.commit());
      }
    }
    return commits;
  }

  void Start(LoadLogic& loader, const std::string& run = "run1") {
    WorkerContext ctx;
    ctx.run_id = run;
    ctx.plan = plan_;
    Status st = loader.Start(ctx);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  // key -> the row: target id, name, parent id ("" for NULL), content hash.
  struct Row {
    int64_t id = 0;
    std::string parent;
    uint64_t hash = 0;
    uint64_t recorded = 0;
  };
  std::map<std::string, Row> Rows() {
    auto target = OpenTarget(plan_.target);
    EXPECT_TRUE(target.ok());
    std::map<std::string, Row> rows;
    Status st = (*target)->ScanRows(hcp(), [&](const TargetRow& row) {
      if (row.merged) return;
      Row r;
      r.id = row.target_id;
      r.parent = row.values[1].is_null ? "" : row.values[1].s;
      r.hash = ContentHash(hcp().ToSchema(), row.values);
      r.recorded = row.recorded_hash;
      rows[row.key] = r;
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return rows;
  }

  // key -> its fates over all commits ("LOADED", "REJECTED", ...).
  static std::map<std::string, std::vector<v1::Fate>> Fates(
      const std::vector<v1::Commit>& commits) {
    std::map<std::string, std::vector<v1::Fate>> fates;
    for (const v1::Commit& c : commits) {
      for (const v1::Fate& f : AllFatesOf(c)) fates[f.key()].push_back(f);
    }
    return fates;
  }

  static bool Has(const std::vector<v1::Fate>& fates, v1::FateKind kind) {
    for (const auto& f : fates) {
      if (f.kind() == kind) return true;
    }
    return false;
  }

  std::filesystem::path dir_;
  Plan plan_;
};

TEST_F(SelfReferenceTest, ParentsLaterInTheLoadMergedParentsAndAnOrphan) {
  LoadLogic loader;
  Start(loader);
  // Children come first: A1's parent P9 and A3's parent M1 (merged into S1)
  // are in the next batch, A2's parent A1 in the same batch.
  auto first = Load(
      loader,
      {Batch(0, 2, {Rec("A1", "P9"), Rec("A2", "A1"), Rec("A3", "M1"), Rec("R1", std::nullopt)})});
  EXPECT_TRUE(first.empty()) << "batch 0 waits for its children's parents";
  auto second = Load(loader, {Batch(1, 2,
                                    {Rec("O1", "ZZ"), Rec("P9", std::nullopt),
                                     Rec("S1", std::nullopt, {{"crm", "M1"}})})});
  ASSERT_EQ(second.size(), 2u) << "both batches complete once the entity is loaded";
  auto rows = Rows();
  EXPECT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows["A1"].parent, std::to_string(rows["P9"].id));
  EXPECT_EQ(rows["A2"].parent, std::to_string(rows["A1"].id));
  EXPECT_EQ(rows["A3"].parent, std::to_string(rows["S1"].id)) << "the survivor's row";
  EXPECT_EQ(rows["R1"].parent, "");
  EXPECT_FALSE(rows.count("O1")) << "an orphan is not loaded";

  auto fates = Fates(second);
  for (const char* key : {"A1", "A2", "A3", "R1", "P9", "S1"}) {
    ASSERT_EQ(fates[key].size(), 1u) << key;
    const v1::Fate& f = fates[key][0];
    EXPECT_EQ(f.kind(), v1::FATE_LOADED) << key;
    EXPECT_EQ(f.target_id(), rows[key].id) << key;
    // The fate's hash is the row's: the reconciler finds it unchanged.
    EXPECT_EQ(f.content_hash(), rows[key].hash) << key;
    EXPECT_EQ(rows[key].recorded, rows[key].hash) << key;
  }
  ASSERT_EQ(fates["O1"].size(), 1u);
  EXPECT_EQ(fates["O1"][0].kind(), v1::FATE_REJECTED);
  EXPECT_EQ(fates["O1"][0].rule(), "reference");
  EXPECT_EQ(fates["O1"][0].reason(), "orphan reference: hcp ZZ not found in source crm");
  // Each commit balances: in = loaded + rejected, as the ledger checks.
  for (const v1::Commit& c : second) {
    uint64_t terminal = 0;
    for (const auto& f : AllFatesOf(c)) terminal += f.kind() != v1::FATE_WARNING;
    EXPECT_EQ(c.counts().in(), terminal) << c.batch().sequence();
    EXPECT_EQ(c.counts().rejected(), c.batch().sequence() == 1 ? 1u : 0u);
  }
}

TEST_F(SelfReferenceTest, WarningLoadsTheOrphanWithoutItsParent) {
  Severity("warning");
  LoadLogic loader;
  Start(loader);
  auto commits = Load(loader, {Batch(0, 1, {Rec("C1", "O1"), Rec("O1", "NOPE")})});
  ASSERT_EQ(commits.size(), 1u);
  auto rows = Rows();
  EXPECT_EQ(rows["O1"].parent, "");
  EXPECT_EQ(rows["C1"].parent, std::to_string(rows["O1"].id)) << "its child still points at it";
  auto fates = Fates(commits);
  EXPECT_TRUE(Has(fates["O1"], v1::FATE_LOADED));
  EXPECT_TRUE(Has(fates["O1"], v1::FATE_WARNING));
  for (const auto& f : fates["O1"]) {
    if (f.kind() == v1::FATE_WARNING) {
      EXPECT_EQ(f.rule(), "parent_known");
      EXPECT_EQ(f.reason(),
                "orphan reference: hcp NOPE not found in source crm; loaded with parent_id NULL");
    }
  }
}

TEST_F(SelfReferenceTest, ReviewHoldsTheOrphanAndItsChildrenFollow) {
  Severity("review");
  LoadLogic loader;
  Start(loader);
  auto commits = Load(loader, {Batch(0, 1, {Rec("C1", "O1"), Rec("O1", "NOPE")})});
  ASSERT_EQ(commits.size(), 1u);
  auto fates = Fates(commits);
  ASSERT_EQ(fates["O1"].size(), 1u);
  EXPECT_EQ(fates["O1"][0].kind(), v1::FATE_REVIEW);
  // Its child cannot point at a record that is not loaded: held too.
  ASSERT_EQ(fates["C1"].size(), 1u);
  EXPECT_EQ(fates["C1"][0].kind(), v1::FATE_REVIEW);
  EXPECT_EQ(commits[0].review_items_size(), 2);
  EXPECT_TRUE(Rows().empty());
}

TEST_F(SelfReferenceTest, ACycleInTheDataIsBrokenAtItsFirstRecord) {
  LoadLogic loader;
  Start(loader);
  auto commits = Load(loader, {Batch(0, 1, {Rec("X1", "X2"), Rec("X2", "X1"), Rec("Y", "Y")})});
  ASSERT_EQ(commits.size(), 1u);
  auto fates = Fates(commits);
  for (const char* key : {"X1", "X2", "Y"}) {
    ASSERT_EQ(fates[key].size(), 1u) << key;
    EXPECT_EQ(fates[key][0].kind(), v1::FATE_REJECTED) << key;
  }
  EXPECT_NE(fates["X1"][0].reason().find("reference each other in a cycle"), std::string::npos)
      << fates["X1"][0].reason();
  EXPECT_EQ(fates["X2"][0].reason(), "orphan reference: hcp X1 not found in source crm");
  EXPECT_TRUE(Rows().empty());
}

TEST_F(SelfReferenceTest, ARestartedLoaderAndASecondRunChangeNothing) {
  {
    LoadLogic loader;
    Start(loader);
    // Batch 0 loads its root and waits; the loader dies before batch 1.
    EXPECT_TRUE(Load(loader, {Batch(0, 2, {Rec("A1", "P9"), Rec("R1", std::nullopt)})}).empty());
  }
  auto before = Rows();
  ASSERT_EQ(before.size(), 1u);
  LoadLogic again;
  Start(again);
  // The coordinator sends every batch without a load commit again.
  auto commits = Load(again, {Batch(0, 2, {Rec("A1", "P9"), Rec("R1", std::nullopt)}),
                              Batch(1, 2, {Rec("P9", std::nullopt)})});
  ASSERT_EQ(commits.size(), 2u);
  auto rows = Rows();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows["R1"].id, before["R1"].id);
  EXPECT_EQ(rows["A1"].parent, std::to_string(rows["P9"].id));

  // A second run of the same plan: every row found unchanged.
  LoadLogic rerun;
  Start(rerun, "run2");
  auto second = Load(rerun, {Batch(0, 2, {Rec("A1", "P9"), Rec("R1", std::nullopt)}, "run2"),
                             Batch(1, 2, {Rec("P9", std::nullopt)}, "run2")});
  ASSERT_EQ(second.size(), 2u);
  for (const v1::Commit& c : second) {
    EXPECT_EQ(c.counts().unchanged(), c.counts().in()) << c.batch().sequence();
    EXPECT_EQ(c.counts().inserted() + c.counts().updated(), 0u);
  }
  EXPECT_EQ(Rows().size(), 3u);
  EXPECT_EQ(Rows()["A1"].parent, rows["A1"].parent);
}

TEST_F(SelfReferenceTest, SeveralDedupStreamsNeverCallAChildAnOrphanTooSoon) {
  LoadLogic loader;
  Start(loader);
  // This stream is complete, but another dedup shard's stream of the
  // entity may still bring P9: C1 waits, nothing is rejected.
  RecordBatch b = Batch(0, 1, {Rec("C1", "P9"), Rec("R1", std::nullopt)});
  b.range.set_output_streams(2);
  EXPECT_TRUE(Load(loader, {std::move(b)}).empty());
  // P9 arrives from the other stream: C1 loads under it.
  RecordBatch other = Batch(0, 1, {Rec("P9", std::nullopt)});
  other.id.set_source("dedup/1");
  other.range.set_output_streams(2);
  auto commits = Load(loader, {std::move(other)});
  ASSERT_EQ(commits.size(), 2u);
  auto rows = Rows();
  EXPECT_EQ(rows["C1"].parent, std::to_string(rows["P9"].id));
}

// Batches carrying every dedup stream's count (BatchRange.stream_batches):
// orphans are decided once every stream is in, counting a stream this
// loader never sees a batch of (shard 1 emitted none).
TEST_F(SelfReferenceTest, EveryStreamsCountDecidesOrphansOnceAllAreLoaded) {
  auto on_stream = [&](uint32_t shard, std::vector<Record> records) {
    RecordBatch b = Batch(0, 1, std::move(records));
    b.id.set_source("dedup/" + std::to_string(shard));
    b.range.set_output_streams(3);
    for (uint64_t n : {1, 0, 1}) b.range.add_stream_batches(n);
    return b;
  };
  LoadLogic loader;
  Start(loader);
  // Stream 0 is all in, stream 2 is not: P9 may come with it, so neither
  // C1 nor O1 is called an orphan yet.
  EXPECT_TRUE(Load(loader, {on_stream(0, {Rec("C1", "P9"), Rec("O1", "ZZ")})}).empty());
  // Stream 2 brings P9; with stream 1 empty the entity is complete: C1
  // loads under P9 and O1, whose parent is nowhere, is rejected.
  auto commits = Load(loader, {on_stream(2, {Rec("P9", std::nullopt)})});
  ASSERT_EQ(commits.size(), 2u);
  auto rows = Rows();
  EXPECT_EQ(rows["C1"].parent, std::to_string(rows["P9"].id));
  EXPECT_FALSE(rows.count("O1"));
  auto fates = Fates(commits);
  ASSERT_EQ(fates["O1"].size(), 1u);
  EXPECT_EQ(fates["O1"][0].kind(), v1::FATE_REJECTED);
  EXPECT_EQ(fates["O1"][0].reason(), "orphan reference: hcp ZZ not found in source crm");
}

// Only stream 0 emits: its one batch completes the entity at once.
TEST_F(SelfReferenceTest, StreamsThatEmitNothingNeedNothing) {
  LoadLogic loader;
  Start(loader);
  RecordBatch b = Batch(0, 1, {Rec("C1", "R1"), Rec("R1", std::nullopt), Rec("O1", "ZZ")});
  b.range.set_output_streams(2);
  for (uint64_t n : {1, 0}) b.range.add_stream_batches(n);
  auto commits = Load(loader, {std::move(b)});
  ASSERT_EQ(commits.size(), 1u);
  auto fates = Fates(commits);
  EXPECT_TRUE(Has(fates["C1"], v1::FATE_LOADED));
  EXPECT_TRUE(Has(fates["O1"], v1::FATE_REJECTED));
}

TEST(SelfReferenceColumns, OnlyReferencesToTheEntityItself) {
  Entity e;
  e.name = "account";
  ModelField a, b, c;
  a.name = "parent";
  a.type = FieldType::kReference;
  a.references = "account";
  b.name = "owner";
  b.type = FieldType::kReference;
  b.references = "hcp";
  c.name = "name";
  e.fields = {b, a, c};
  EXPECT_EQ(SelfReferenceColumns(e), std::vector<size_t>{1});
}

}  // namespace
}  // namespace sluice
