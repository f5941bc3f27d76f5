"""The synthetic city both matching benchmarks use: a 10 km square near Dalian's Zhongshan
Park, cut into streets, with a category mix like the seed's."""

from datetime import date

ON = date(2026, 11, 16)
LAT0, LON0 = 38.905, 121.585  # south-west corner
KM_LAT, KM_LON = 1 / 111.0, 1 / 86.5  # degrees per km at this latitude
CITY_KM, GRID = 10.0, 4
SKILLS = ("bedridden_care", "dementia_care")
CATEGORIES = ("A",) * 15 + ("B",) * 30 + ("C",) * 35 + ("D",) * 20
