-- The US ERP: doctors and their visits. Build with: sqlite3 data/us.db < data/us.sql
DROP TABLE IF EXISTS doctors;
DROP TABLE IF EXISTS visits;
CREATE TABLE doctors(doc_id TEXT PRIMARY KEY, nid TEXT, family_name TEXT, given_name TEXT,
                     dob TEXT, spec_code INTEGER, city TEXT);
INSERT INTO doctors VALUES
  ('US01', 'N001', 'Dupont', 'Jean', '03/12/1970', 1, 'Paris'),
  ('US02', 'N020', 'Smith', 'John', '07/04/1968', 2, 'Boston'),
  ('US03', 'N021', 'Johnson', 'Mary', '11/23/1979', 3, 'Chicago'),
  ('US04', 'N022', 'Brown', 'Robert', '02/29/1981', 1, 'Denver'),
  ('US05', 'N023', 'Davis', 'Linda', '06/15/1972', 9, 'Austin'),
  ('US06', 'N010', 'Rossi', 'Marco', '08/08/1977', 1, 'Rome');
CREATE TABLE visits(visit_id TEXT PRIMARY KEY, doc_id TEXT, visit_date TEXT,
                    channel_code INTEGER, notes TEXT);
INSERT INTO visits VALUES
  ('V001', 'US01', '01/15/2026', 1, 'first visit'),
  ('V002', 'US02', '01/16/2026', 2, NULL),
  ('V003', 'US03', '02/01/2026', 1, 'samples'),
  ('V004', 'US02', '02/03/2026', 3, 'newsletter'),
  ('V005', 'US04', '02/10/2026', 1, 'parent rejected'),
  ('V006', 'US99', '02/11/2026', 2, 'unknown doctor'),
  ('V007', 'US06', '02/12/2026', 1, 'merged parent'),
  ('V008', 'US03', '02/13/2026', 4, 'unmapped channel');
