"""The synthetic reports, one data module each; ``nianbao.devportal.catalogue`` collects them.

Every agency, place, person and number here is invented. The values were chosen by hand so that each
report's arithmetic holds, except where a report deliberately carries a source error (its module says so).
"""
