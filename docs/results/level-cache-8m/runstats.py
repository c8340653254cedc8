"""runstats.py RUN... - per run: candidates, proxy evaluations, time, promotions
(decided, joined) to each level, the references own level trainings (s and
share of the one core), all level trainings this run ran, and the level runs
served by the level-results cache. A pass over each search.db."""
import sqlite3, sys
for r in sys.argv[1:]:
    db=sqlite3.connect(f'file:{r}/search.db?mode=ro',uri=True)
    n=db.execute("select count(*) from candidates where batch>=0").fetchone()[0]
    ev=db.execute("select count(*) from candidates where batch>=0 and status not in ('duplicate','equivalent','screened')").fetchone()[0]
    lv={l:(c,cc,s) for l,c,cc,s in db.execute("select level, count(*), sum(cached), sum(case when cached=0 then seconds else 0 end) from level_runs group by level")}
    ref=db.execute("select sum(r.seconds) from level_runs r join candidates c on c.id=r.candidate where c.batch<0 and r.cached=0").fetchone()[0] or 0
    pr={l:(c,j) for l,c,j in db.execute("select level, count(*), sum(joined is not null) from promotions where decided>=0 group by level")}
    el=db.execute("select elapsed from progress").fetchone()[0]
    proms=' '.join(f"{l} prom {pr[l]}" for l in sorted(pr) if l != 'meta')
    print(f"{r.split('/')[-1]:8} cand {n:5} eval {ev:5} elapsed {el:5.0f}s  {proms}  ref-train {ref:5.0f}s ({100*ref/el:4.1f}% of one core)  level-train {sum(v[2] for v in lv.values()):5.0f}s cached runs {sum(v[1] for v in lv.values())}")
