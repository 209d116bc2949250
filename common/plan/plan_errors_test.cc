// Every mistake a plan can hold is reported at its exact YAML path.
#include <gtest/gtest.h>

#include "common/plan/plan_test_util.h"

namespace sluice {
namespace plan_testing {
namespace {

struct BadCase {
  std::string section;
  std::string text;
  std::string path;     // the exact YAML path expected
  std::string message;  // a part of the message
};

TEST_F(PlanTest, PlanReportsEachMistakeAtItsPath) {
  const std::string kMapHead = "mappings:\n  - entity: hcp\n    source: crm\n    fields:\n";
  const std::string kMapOk = "      national_id: nat_id\n      last_name: last\n";
  const std::string kRule = "validation:\n  hcp:\n    - ";
  const std::vector<BadCase> cases = {
      // Top level.
      {"top", "name: t\nbatch_size: lots\n", "batch_size", "must be an integer"},
      {"top", "batch_size: 0\n", "batch_size", "between 1 and 1000000"},
      {"top", "version: 2\n", "version", "unsupported version 2"},
      {"top", "nmae: t\n", "", "unknown key 'nmae'"},
      {"top", "state_dir: ''\n", "state_dir", "must not be empty"},
      // Model.
      {"model", "", "model", "missing"},
      {"model", "model: nowhere.yaml\n", "model", "file not found"},
      {"model", "model: [a]\n", "model", "must be a file path or a mapping"},
      {"model", "model: {entities: {hcp: {fields: {a: {type: money}}}}}\n",
       "model.entities.hcp.fields.a.type", "unknown type 'money'"},
      {"model", "model: {entities: {hcp: {fields: {a: money}}}}\n", "model.entities.hcp.fields.a",
       "unknown type 'money'"},
      {"model", "model: {entities: {hcp: {fields: {a: {type: 'decimal(19,2)'}}}}}\n",
       "model.entities.hcp.fields.a.type", "precision must be 1..18"},
      {"model", "model: {entities: {hcp: {fields: {a: {type: 'decimal(4,5)'}}}}}\n",
       "model.entities.hcp.fields.a.type", "scale must be 0..precision"},
      {"model", "model: {entities: {hcp: {fields: {a: {type: 'decimal(4;5)'}}}}}\n",
       "model.entities.hcp.fields.a.type", "bad decimal type"},
      {"model", "model: {entities: {hcp: {fields: {a: {type: decimal}}}}}\n",
       "model.entities.hcp.fields.a.type", "needs a precision and a scale"},
      {"model", "model: {entities: {hcp: {fields: {a: {type: enum}}}}}\n",
       "model.entities.hcp.fields.a.values", "missing"},
      {"model", "model: {entities: {hcp: {fields: {a: {type: string, values: [x]}}}}}\n",
       "model.entities.hcp.fields.a.values", "only for enum fields"},
      {"model", "model: {entities: {hcp: {fields: {a: {type: reference, entity: doc}}}}}\n",
       "model.entities.hcp.fields.a.entity", "unknown entity 'doc'"},
      {"model", "model: {entities: {hcp: {fields: {a: {type: reference}}}}}\n",
       "model.entities.hcp.fields.a.entity", "missing"},
      {"model", "model: {entities: {hcp: {fields: {a: {type: string, required: maybe}}}}}\n",
       "model.entities.hcp.fields.a.required", "must be true or false"},
      {"model", "model: {entities: {hcp: {fields: {a: {type: string, max_len: 3}}}}}\n",
       "model.entities.hcp.fields.a", "unknown key 'max_len'"},
      {"model", "model: {entities: {hcp: {fields: {a: {type: string, max_length: 0}}}}}\n",
       "model.entities.hcp.fields.a.max_length", "must be at least 1"},
      {"model", "model: {entities: {hcp: {fields: {}}}}\n", "model.entities.hcp.fields",
       "must not be empty"},
      {"model", "model: {entities: {hcp: {fields: {a: string}, desc: x}}}\n", "model.entities.hcp",
       "unknown key 'desc'"},
      {"model", "model: {entities: {hcp: {fields: {a: string, a: int}}}}\n",
       "model.entities.hcp.fields", "duplicate field 'a'"},
      {"model", "model: {entities: {'bad name': {fields: {a: string}}}}\n",
       "model.entities.bad name",
       "not a valid entity name (letters, digits and '_', not starting with a digit)"},
      {"model",
       "model: {entities: {a: {fields: {b_id: {type: reference, entity: b}}}, "
       "b: {fields: {a_id: {type: reference, entity: a}}}}}\n",
       "model.entities.b.fields.a_id.entity", "reference cycle: a -> b -> a"},
      // Sources.
      {"sources", "sources:\n  crm: {kind: csv, path: data/crm.csv, key: id, delimter: ';'}\n",
       "sources.crm", "unknown key 'delimter'"},
      {"sources", "sources:\n  crm: {path: data/crm.csv, key: id}\n", "sources.crm.kind",
       "missing"},
      {"sources", "sources:\n  crm: {kind: csv, key: id}\n", "sources.crm.path", "missing"},
      {"sources", "sources:\n  crm: {kind: csv, path: data/none.csv, key: id}\n",
       "sources.crm.path", "file not found: " + At("data/none.csv")},
      {"sources", "sources:\n  crm: {kind: csv, path: data/crm.csv}\n", "sources.crm.key",
       "missing"},
      {"sources", "sources:\n  crm: {kind: csv, path: data/crm.csv, key: id, delimiter: ';;'}\n",
       "sources.crm.delimiter", "must be a single character"},
      {"sources", "sources:\n  crm: {kind: csv, path: data/crm.csv, key: id, header: maybe}\n",
       "sources.crm.header", "must be true or false"},
      {"sources", "sources:\n  crm: {kind: csv, path: data/crm.csv, key: [a, b]}\n",
       "sources.crm.key", "must be text"},
      {"sources", "sources:\n  crm: {kind: sqlite, path: data/erp.db, key: id}\n", "sources.crm",
       "needs 'table' or 'query'"},
      {"sources",
       "sources:\n  crm: {kind: csv, path: data/crm.csv, key: a}\n"
       "  crm: {kind: csv, path: data/crm.csv, key: b}\n",
       "sources", "duplicate key 'crm'"},
      {"sources", "sources: [crm]\n", "sources", "must be a mapping"},
      // Mappings.
      {"mappings", "mappings:\n  - source: crm\n    fields: {a: b}\n", "mappings[0].entity",
       "missing"},
      {"mappings", "mappings:\n  - {entity: doctor, source: crm, fields: {a: b}}\n",
       "mappings[0].entity", "unknown entity 'doctor'"},
      {"mappings",
       "mappings:\n  - {entity: hcp, source: sap, fields: {national_id: a, last_name: b}}\n",
       "mappings[0].source", "unknown source 'sap'"},
      {"mappings", "mappings:\n  - {entity: hcp, source: crm}\n", "mappings[0].fields", "missing"},
      {"mappings", "mappings: {entity: hcp}\n", "mappings", "must be a list"},
      {"mappings", kMapHead + kMapOk + "      nickname: nick\n", "mappings[0].fields.nickname",
       "entity 'hcp' has no field 'nickname'"},
      {"mappings", kMapHead + "      national_id: nat_id\n", "mappings[0].fields",
       "required field 'last_name' has no mapping and no default"},
      {"mappings",
       kMapHead + kMapOk +
           "  - {entity: hcp, source: crm, fields: {national_id: a, last_name: b}}\n",
       "mappings[1]", "duplicate mapping of entity 'hcp' from source 'crm' (first at mappings[0])"},
      {"mappings", kMapHead + kMapOk + "      first_name: {from: f, format: '%d/%m/%Y'}\n",
       "mappings[0].fields.first_name.format", "only for date and timestamp fields"},
      {"mappings", kMapHead + kMapOk + "      birth_date: {from: d, formats: ['%Y', '%d.%q']}\n",
       "mappings[0].fields.birth_date.formats[1]", "unsupported directive '%q'"},
      {"mappings",
       kMapHead + "      national_id: nat_id\n      last_name: {from: l, trim: often}\n",
       "mappings[0].fields.last_name.trim", "must be true or false"},
      {"mappings", kMapHead + "      national_id: nat_id\n      last_name: {form: l}\n",
       "mappings[0].fields.last_name", "unknown key 'form'"},
      {"mappings", kMapHead + kMapOk + "      first_name: {trim: true}\n",
       "mappings[0].fields.first_name", "needs 'from' or 'default'"},
      {"mappings", kMapHead + kMapOk + "      specialty: {from: s, map: {CARD: cardio}}\n",
       "mappings[0].fields.specialty.map.CARD", "'cardio' is not a value of enum 'specialty'"},
      {"mappings", kMapHead + kMapOk + "      specialty: {from: s, default: surgery}\n",
       "mappings[0].fields.specialty.default", "'surgery' is not a value of enum 'specialty'"},
      {"mappings", kMapHead + kMapOk + "      first_name: {from: f, true_values: [Y]}\n",
       "mappings[0].fields.first_name.true_values", "only for bool fields"},
      {"mappings", kMapHead + kMapOk + "      revenue: {from: r, decimal_point: ',,'}\n",
       "mappings[0].fields.revenue.decimal_point", "must be a single character"},
      {"mappings",
       kMapHead + kMapOk + "      revenue: {from: r, decimal_point: ',', group_separator: ','}\n",
       "mappings[0].fields.revenue", "decimal_point and group_separator must differ"},
      {"mappings", kMapHead + kMapOk + "      first_name: {from: f, decimal_point: ','}\n",
       "mappings[0].fields.first_name.decimal_point", "only for decimal fields"},
      {"mappings", kMapHead + kMapOk + "      first_name: [a]\n", "mappings[0].fields.first_name",
       "must be a column name or a mapping"},
      // Dedup.
      {"dedup", "dedup:\n  doctor: {key: id}\n", "dedup.doctor", "unknown entity 'doctor'"},
      {"dedup", "dedup:\n  hcp: {survivorship: {}}\n", "dedup.hcp.key", "missing"},
      {"dedup", "dedup:\n  hcp: {key: nid}\n", "dedup.hcp.key", "entity 'hcp' has no field 'nid'"},
      {"dedup", "dedup:\n  hcp: {key: [national_id, nid]}\n", "dedup.hcp.key[1]",
       "entity 'hcp' has no field 'nid'"},
      {"dedup", "dedup:\n  hcp: {key: national_id, survivorship: {source_priority: [sap]}}\n",
       "dedup.hcp.survivorship.source_priority[0]", "unknown source 'sap'"},
      {"dedup", "dedup:\n  hcp: {key: national_id, survivorship: {source_priority: [crm, crm]}}\n",
       "dedup.hcp.survivorship.source_priority[1]", "source 'crm' is listed twice"},
      {"dedup", "dedup:\n  hcp: {key: national_id, survivorship: {most_recent: first_name}}\n",
       "dedup.hcp.survivorship.most_recent", "must be a date, timestamp or int field"},
      {"dedup", "dedup:\n  hcp: {key: national_id, survivorship: {newest: updated_at}}\n",
       "dedup.hcp.survivorship", "unknown key 'newest'"},
      // Validation.
      {"validation", "validation:\n  doctor: []\n", "validation.doctor", "unknown entity 'doctor'"},
      {"validation", kRule + "{name: a, kind: regexp, field: email}\n", "validation.hcp[0].kind",
       "unknown rule kind 'regexp'"},
      {"validation", kRule + "{name: a, field: email}\n", "validation.hcp[0].kind", "missing"},
      {"validation", kRule + "{name: a, kind: required, field: mail}\n", "validation.hcp[0].field",
       "entity 'hcp' has no field 'mail'"},
      {"validation", kRule + "{name: a, kind: required, field: email, severity: fatal}\n",
       "validation.hcp[0].severity", "must be error, warning or review"},
      {"validation", kRule + "{name: a, kind: range, field: revenue, min: 10, max: 5}\n",
       "validation.hcp[0]", "min is greater than max"},
      {"validation", kRule + "{name: a, kind: range, field: revenue, min: ten}\n",
       "validation.hcp[0].min", "'ten' is not a valid decimal(12,2)"},
      {"validation", kRule + "{name: a, kind: range, field: revenue, max: 0.125}\n",
       "validation.hcp[0].max", "'0.125' is not a valid decimal(12,2)"},
      {"validation", kRule + "{name: a, kind: range, field: nope, max: x}\n",
       "validation.hcp[0].max", "must be a number"},
      {"validation", kRule + "{name: a, kind: range, field: revenue}\n", "validation.hcp[0]",
       "range needs min or max"},
      {"validation", kRule + "{name: a, kind: range, field: email, min: 1}\n",
       "validation.hcp[0].field", "range needs an int or decimal field"},
      {"validation", kRule + "{name: a, kind: picklist, field: email}\n",
       "validation.hcp[0].values", "missing; field 'email' is not an enum"},
      {"validation", kRule + "{name: a, kind: regex, field: email}\n", "validation.hcp[0].pattern",
       "missing"},
      {"validation", kRule + "{name: a, kind: regex, field: email, pattern: '(a'}\n",
       "validation.hcp[0].pattern", "bad regex '(a': missing closing parenthesis at offset 2"},
      {"validation", kRule + "{name: a, kind: max_length, field: email}\n", "validation.hcp[0].max",
       "missing; field 'email' has no max_length in the model"},
      {"validation", kRule + "{name: a, kind: type, field: email, type: enum}\n",
       "validation.hcp[0].type", "must be int, decimal, date, timestamp or bool"},
      {"validation", kRule + "{name: a, kind: type, field: email}\n", "validation.hcp[0].type",
       "missing"},
      {"validation", kRule + "{name: a, kind: type, field: email, type: number}\n",
       "validation.hcp[0].type", "unknown type 'number'"},
      {"validation", kRule + "{name: a, kind: date_range, field: birth_date, min: 01/01/1900}\n",
       "validation.hcp[0].min", "'01/01/1900' is not a valid date (YYYY-MM-DD)"},
      {"validation",
       kRule + "{name: a, kind: date_range, field: birth_date, min: 2000-01-02, max: 2000-01-01}\n",
       "validation.hcp[0]", "min is greater than max"},
      {"validation", kRule + "{name: a, kind: reference, field: email}\n",
       "validation.hcp[0].field", "reference needs a reference field"},
      {"validation", kRule + "{name: a, kind: range, field: revenue, min: 1, pattern: x}\n",
       "validation.hcp[0].pattern", "not used by kind 'range'"},
      {"validation",
       kRule + "{name: a, kind: required, field: email}\n    - {name: a, kind: required, field: "
               "last_name}\n",
       "validation.hcp[1].name", "duplicate rule name 'a'"},
      // Target.
      {"target", "", "target", "missing"},
      {"target", "target: {path: out/target.db}\n", "target.kind", "missing"},
      {"target", "target: {kind: sqlite, path: out/t.db, file: x}\n", "target",
       "unknown key 'file'"},
      // Waves.
      {"waves", "", "waves", "missing"},
      {"waves", "waves: []\n", "waves", "must list at least one wave"},
      {"waves", "waves:\n  - {name: w}\n", "waves[0].entities", "missing"},
      {"waves", "waves:\n  - {name: w, entities: [hcp, doctor, account]}\n", "waves[0].entities[1]",
       "unknown entity 'doctor'"},
      {"waves", "waves:\n  - {name: w, entities: [hcp, account]}\n  - {name: v, entities: [hcp]}\n",
       "waves[1].entities[0]", "entity 'hcp' is already in wave 'w'"},
      {"waves", "waves:\n  - {name: w, entities: [hcp]}\n", "waves",
       "entity 'account' has mappings but is in no wave"},
      {"waves", "waves:\n  - {name: w, entities: [account]}\n  - {name: v, entities: [hcp]}\n",
       "waves[0].entities[0]", "entity 'account' references 'hcp', which loads in a later wave"},
      {"waves", "waves:\n  - {name: w, entities: [hcp]}\n  - {name: w, entities: [account]}\n",
       "waves[1].name", "duplicate wave name 'w'"},
  };
  for (const BadCase& c : cases) {
    std::vector<PlanIssue> issues;
    ParsePlan(PlanWith({{c.section, c.text}}), Dir(), &issues);
    bool found = false;
    for (const PlanIssue& i : issues) {
      found = found || (i.path == c.path && i.message.find(c.message) != std::string::npos);
    }
    EXPECT_TRUE(found) << "section " << c.section << ":\n"
                       << c.text << "expected " << c.path << ": " << c.message
                       << "\ngot:" << Dump(issues);
  }
}

}  // namespace
}  // namespace plan_testing
}  // namespace sluice
