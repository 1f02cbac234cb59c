# R-compatibility switches of es_survey (issue "One estimation path", section 3).
# Run from tests/reference:  Rscript make_reference_compat.R
# Writes r_compat.json and r_brr_hadamard.csv. R 4.2.2, survey 4.1.1.
#
# 1. BRR with R's Hadamard matrix: R and es_survey choose different (equally valid)
#    Hadamard matrices, so BRR SEs of non-linear statistics differ between them. The
#    matrix R uses for this design is exported; es_survey's replicate("BRR",
#    hadamard=H) with it must reproduce R's SEs.
# 2. survey.drop.replicates: R (option TRUE by default) leaves the units of certainty
#    strata (fpc = n_h) out of the replicate totals. With mse=FALSE this changes nothing
#    on a JKn design; with mse=TRUE it inflates the SE of a total (the replicate totals
#    miss the certainty units while the full-sample total has them).
suppressMessages(library(survey))
library(jsonlite)

pairs <- read.csv("apistrat_pairs.csv")
dpairs <- svydesign(id = ~half, strata = ~pair, weights = ~pw, data = pairs, nest = TRUE)
npairs <- length(unique(pairs$pair))
H <- survey:::hadamard(npairs)  # the matrix brrweights() picks for this design
write.csv(H, "r_brr_hadamard.csv", row.names = FALSE)
out <- list()
for (rho in c(0, 0.3)) {
  r <- if (rho == 0) as.svrepdesign(dpairs, type = "BRR") else
    as.svrepdesign(dpairs, type = "Fay", fay.rho = rho)
  tag <- if (rho == 0) "brr" else "fay"
  m <- svymean(~api00, r)
  t <- svytotal(~enroll, r)
  q <- svyratio(~api00, ~api99, r)
  b <- svyby(~api00, ~stype, r, svymean)
  out[[paste0(tag, "_mean_api00")]] <- list(estimate = unname(coef(m)), se = unname(SE(m)))
  out[[paste0(tag, "_total_enroll")]] <- list(estimate = unname(coef(t)), se = unname(SE(t)))
  out[[paste0(tag, "_ratio_api00_api99")]] <- list(estimate = unname(coef(q)),
                                                  se = unname(SE(q)))
  out[[paste0(tag, "_mean_api00_by_stype")]] <- list(stype = as.character(b$stype),
                                                    estimate = unname(coef(b)),
                                                    se = unname(SE(b)))
}

cert <- read.csv("apistrat_certainty.csv")
dcert <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = cert)
for (drop in c(TRUE, FALSE)) {
  options(survey.drop.replicates = drop)
  for (mse in c(FALSE, TRUE)) {
    r <- as.svrepdesign(dcert, type = "JKn", mse = mse)
    t <- svytotal(~enroll, r, na.rm = TRUE)
    m <- svymean(~api00, r)
    key <- paste0("certainty_jkn_drop", drop, "_mse", mse)
    out[[key]] <- list(total_enroll = list(estimate = unname(coef(t)), se = unname(SE(t))),
                       mean_api00 = list(estimate = unname(coef(m)), se = unname(SE(m))))
  }
}
options(survey.drop.replicates = TRUE)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "r_compat.json")
