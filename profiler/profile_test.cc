// Profile of a small known plan: every figure below is counted by hand from
// the files the test writes.
#include "profiler/profile.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace sluice {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

const FieldProfile& Field(const SourceProfile& s, const std::string& name) {
  for (const auto& f : s.fields) {
    if (f.name == name) return f;
  }
  ADD_FAILURE() << "no field " << name;
  return s.fields.front();
}

class ProfileTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sluice-profile-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    Write(dir_ / "hcp.csv",
          "id,nid,name,spec,dob,fee\n"
          "H1,N1,Dupont,CA,13/04/1980,\"1,5\"\n"
          "H2,N2,Martin,ON,03/04/1981,2\n"
          "H3,N1,Durand,XX,01/01/1990,\n"
          "H4,,Petit,CA,25/12/1975,10\n"
          "H5,N5,,ZZ,,3\n");
    Write(dir_ / "visits.csv",
          "vid,hcp,day\n"
          "V1,H1,2020-01-01\n"
          "V2,H9,2020-01-02\n"
          "V3,H2,2020-01-03\n"
          "V4,H9,2020-01-04\n"
          "V5,,2020-01-05\n");
    Write(dir_ / "plan.yaml", R"(
model:
  entities:
    hcp:
      fields:
        national_id: string
        last_name: string
        specialty: {type: enum, values: [cardiology, oncology]}
    visit:
      fields:
        hcp: {type: reference, entity: hcp}
        day: date
sources:
  crm: {kind: csv, path: hcp.csv, key: id}
  app: {kind: csv, path: visits.csv, key: vid}
mappings:
  - entity: hcp
    source: crm
    fields:
      national_id: nid
      last_name: name
      specialty: {from: spec, map: {CA: cardiology, ON: oncology}}
  - entity: visit
    source: app
    fields:
      hcp: hcp
      day: day
dedup:
  hcp: {key: national_id, survivorship: {source_priority: [crm]}}
target: {kind: sqlite, path: out.db}
waves:
  - {name: hcp, entities: [hcp]}
  - {name: visit, entities: [visit]}
)");
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(ProfileTest, KnownFile) {
  auto plan = LoadPlan((dir_ / "plan.yaml").string());
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  auto profile = ProfilePlan(*plan, ProfileOptions());
  ASSERT_TRUE(profile.ok()) << profile.status().ToString();
  ASSERT_EQ(profile->sources.size(), 2u);
  EXPECT_EQ(profile->rows, 10u);
  const SourceProfile& crm = profile->sources[0];
  EXPECT_EQ(crm.rows, 5u);

  const FieldProfile& nid = Field(crm, "nid");
  EXPECT_EQ(nid.non_empty, 4u);
  EXPECT_DOUBLE_EQ(nid.completeness, 80.0);
  EXPECT_EQ(nid.distinct, 3u);
  EXPECT_TRUE(nid.distinct_exact);
  ASSERT_FALSE(nid.top.empty());
  EXPECT_EQ(nid.top[0], ValueCount("N1", 2));
  ASSERT_EQ(nid.shapes.size(), 1u);
  EXPECT_EQ(nid.shapes[0], ValueCount("A9", 4));
  EXPECT_EQ(nid.inferred_type, "string");

  const FieldProfile& dob = Field(crm, "dob");
  EXPECT_EQ(dob.inferred_type, "date");
  EXPECT_EQ(dob.shapes[0], ValueCount("99/99/9999", 4));
  EXPECT_EQ(dob.dates.day_first, 2u);  // 13/04, 25/12
  EXPECT_EQ(dob.dates.month_first, 0u);
  EXPECT_EQ(dob.dates.ambiguous, 1u);  // 03/04; 01/01 reads the same both ways
  EXPECT_EQ(dob.dates.Verdict(), "day-first");

  const FieldProfile& fee = Field(crm, "fee");
  EXPECT_EQ(fee.inferred_type, "decimal");
  EXPECT_DOUBLE_EQ(fee.numeric_min, 1.5);
  EXPECT_DOUBLE_EQ(fee.numeric_max, 10);
  EXPECT_EQ(fee.min, "1,5");  // text order
  EXPECT_EQ(fee.min_length, 1u);
  EXPECT_EQ(fee.max_length, 3u);

  const FieldProfile& name = Field(crm, "name");
  EXPECT_EQ(name.inferred_type, "string");
  EXPECT_EQ(name.shapes[0].first, "Aaaaaa");

  ASSERT_EQ(crm.unmapped.size(), 1u);
  EXPECT_EQ(crm.unmapped[0].field, "specialty");
  EXPECT_EQ(crm.unmapped[0].total, 2u);
  ASSERT_EQ(crm.unmapped[0].values.size(), 2u);
  EXPECT_EQ(crm.unmapped[0].values[0], ValueCount("XX", 1));
  EXPECT_EQ(crm.unmapped[0].values[1], ValueCount("ZZ", 1));

  ASSERT_EQ(profile->duplicates.size(), 1u);
  EXPECT_EQ(profile->duplicates[0].records, 4u);
  EXPECT_EQ(profile->duplicates[0].duplicates, 1u);  // N1 twice
  EXPECT_EQ(profile->duplicates[0].missing_key, 1u);

  ASSERT_EQ(profile->orphans.size(), 1u);
  EXPECT_EQ(profile->orphans[0].references, 4u);
  EXPECT_EQ(profile->orphans[0].orphans, 2u);  // H9 twice
  EXPECT_EQ(profile->orphans[0].samples, std::vector<std::string>{"H9"});

  const FieldProfile& day = Field(profile->sources[1], "day");
  EXPECT_EQ(day.inferred_type, "date");
  EXPECT_EQ(day.dates.Verdict(), "");

  // The renderings carry the same figures.
  nlohmann::json j = ProfileJson(*profile);
  EXPECT_EQ(j["sources"][0]["fields"][1]["completeness"], 80.0);
  EXPECT_EQ(j["orphans"][0]["orphans"], 2);
  const std::string html = ProfileHtml(*profile);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("2 records have a value the map lacks"), std::string::npos);
  EXPECT_NE(ProfileText(*profile).find("orphans of visit.hcp -> hcp (source app): 2 of 4 H9"),
            std::string::npos);
}

}  // namespace
}  // namespace sluice
