// `sluice trace` of a record the store has no fate of: it exits 1 and says
// what the store holds instead and what a KEY is (issue 20: traces of keys
// picked by hand exited 1 with "no recorded fate" and nothing to go on).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "cli/command.h"
#include "cli/commands_testing.h"
#include "common/audit/audit_store.h"

namespace sluice::cli {
namespace {

namespace fs = std::filesystem;

class TraceTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sluice-trace-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // Three loaded records of crm, CRM0000001..3, read at source lines 2..4
    // and given target ids 101..103, as bench/sqlite_e2e's store has them.
    auto store = AuditStore::Open((dir_ / "audit.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    v1::Commit c;
    c.set_stage("load");
    c.mutable_batch()->set_run_id("run-1");
    c.mutable_batch()->set_entity("hcp");
    c.mutable_batch()->set_source("dedup/0");
    for (int i = 1; i <= 3; ++i) {
      v1::Fate* f = c.add_fates();
      f->set_kind(v1::FATE_LOADED);
      f->set_source("crm");
      f->set_key("CRM000000" + std::to_string(i));
      f->set_stage("load");
      f->set_line(i + 1);
      f->set_target_id(100 + i);
    }
    ASSERT_TRUE((*store)->RecordCommit("run-1", 0, c).ok());
  }
  void TearDown() override { fs::remove_all(dir_); }

  Outcome Trace(const std::string& entity, const std::string& source_key,
                const std::string& run = "") {
    std::vector<std::string> args = {"trace", entity, source_key, "--state-dir", dir_.string()};
    if (!run.empty()) args.insert(args.end(), {"--run", run});
    return Sluice(args);
  }

  fs::path dir_;
};

TEST_F(TraceTest, ARecordInTheStoreIsTraced) {
  Outcome o = Trace("hcp", "crm:CRM0000002");
  EXPECT_EQ(o.exit_code, kExitOk) << o.err;
  EXPECT_NE(o.out.find("LOADED at load (source line/row 3)"), std::string::npos) << o.out;
}

TEST_F(TraceTest, AnUnknownEntityOrSourceNamesTheStoresOwn) {
  Outcome entity = Trace("HCP", "crm:CRM0000002");
  EXPECT_EQ(entity.exit_code, kExitError);
  EXPECT_EQ(entity.err,
            "sluice: no recorded fate for HCP crm:CRM0000002\n"
            "  the store has no fate of entity 'HCP'; its entities: hcp\n");
  Outcome source = Trace("hcp", "CRM:CRM0000002");
  EXPECT_EQ(source.exit_code, kExitError);
  EXPECT_EQ(source.err,
            "sluice: no recorded fate for hcp CRM:CRM0000002\n"
            "  the store has no fate of hcp from source 'CRM'; hcp's sources: crm\n");
}

const char kWhatAKeyIs[] =
    "  KEY is the record's key in source crm (the column the plan's source names as its key), "
    "exactly as the source holds it: case and spaces count, so quote SOURCE:KEY in the shell "
    "when the key has spaces\n";

TEST_F(TraceTest, AKeyNotInTheStoreShowsTheKeysBesideItAndWhatAKeyIs) {
  Outcome o = Trace("hcp", "crm:FR47940578789");  // a national id, not the source key
  EXPECT_EQ(o.exit_code, kExitError);
  EXPECT_EQ(o.err,
            "sluice: no recorded fate for hcp crm:FR47940578789\n"
            "  the keys of hcp from crm either side of 'FR47940578789' in the store: "
            "'CRM0000003' and none (it sorts last)\n" +
                std::string(kWhatAKeyIs));
}

TEST_F(TraceTest, AKeyButForCaseOrSpacesIsOffered) {
  Outcome o = Trace("hcp", "crm: crm0000002");
  EXPECT_EQ(o.exit_code, kExitError);
  EXPECT_NE(o.err.find("  did you mean crm:CRM0000002? (loaded in run-1; the same key but for "
                       "case or surrounding spaces)\n"),
            std::string::npos)
      << o.err;
}

TEST_F(TraceTest, ATargetIdOrASourceLineIsTakenForWhatItIs) {
  Outcome id = Trace("hcp", "crm:102");
  EXPECT_EQ(id.exit_code, kExitError);
  EXPECT_NE(id.err.find("  did you mean crm:CRM0000002? (loaded in run-1; 102 is its target id, "
                        "not its source key)\n"),
            std::string::npos)
      << id.err;
  Outcome line = Trace("hcp", "crm:4");
  EXPECT_EQ(line.exit_code, kExitError);
  EXPECT_NE(line.err.find("  did you mean crm:CRM0000003? (loaded in run-1; read at source "
                          "line/row 4)\n"),
            std::string::npos)
      << line.err;
}

TEST_F(TraceTest, ARecordOutsideTheRunAskedForNamesItsRuns) {
  Outcome o = Trace("hcp", "crm:CRM0000002", "run-nope");
  EXPECT_EQ(o.exit_code, kExitError);
  EXPECT_EQ(o.err,
            "sluice: no recorded fate for hcp crm:CRM0000002 in run run-nope; it has fates in "
            "run-1 (leave out --run to see them all)\n");
}

}  // namespace
}  // namespace sluice::cli
