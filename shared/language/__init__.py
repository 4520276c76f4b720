"""The shared language of pinggu (issue 12): the one place each fact of notice
晋人社办函〔2023〕223号 is written, standard library only, imported by every service.

- `notice`: the notice's number and title, the cohort span in titles;
- `clauses`: the clauses of 四 and 六, their classes and texts, `parse_clause`;
- `notation`: how publications cite a clause (四（一）7, 第四条第（一）项第7款);
- `outcomes`: the cohorts (2020 renewal, 2021 continuing), the grades, the outcomes of 四(三);
- `readings`: the notice's default readings where it leaves one open (issue 17);
- `jurisdictions`: the province, its 11 cities and who evaluates whom (属地管理);
- `uscc`: the unified social credit code (GB 32100-2015);
- `identifiers`: the case id (by USCC) and campaign id (by notice) every service derives.

A service imports these, never another service (tests/unit/test_import_boundaries.py);
what a service decides with them (the rulebook, the rubric, the forms) stays its own.
"""
