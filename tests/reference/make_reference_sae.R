# Reference values for es_survey's Fay-Herriot model (src/es_survey/sae.py).
# The area-level FH model is the random-effects meta-regression of metafor:
# rma(yi, vi, mods = ~ x1 + x2, method = "REML" | "ML"); tau2 is sigma2_u, coef() beta,
# and blup() gives the EBLUPs x'b + gamma (y - x'b). Run from the repository root:
#   Rscript tests/reference/make_reference_sae.R
# Writes tests/reference/sae_areas.csv (the areas) and tests/reference/r_sae.json.
# R 4.2.2, metafor 3.8-1.
suppressPackageStartupMessages({library(metafor); library(jsonlite)})
set.seed(2026)
m <- 20
x1 <- round(runif(m, 5, 60))             # e.g. register count of an area
x2 <- round(runif(m, 0.2, 0.8), 3)        # e.g. share with a financial statement filed
theta <- 2 + 0.35 * x1 + 8 * x2 + rnorm(m, 0, 2.5)
vi <- round(runif(m, 1, 12), 3)           # known sampling variances
yi <- round(theta + rnorm(m, 0, sqrt(vi)), 3)
areas <- data.frame(area = sprintf("A%02d", 1:m), direct = yi, direct_var = vi, x1 = x1,
                    x2 = x2)
write.csv(areas, "tests/reference/sae_areas.csv", row.names = FALSE)
fit_one <- function(method) {
  fit <- rma(yi, vi, mods = ~ x1 + x2, method = method, data = areas,
             control = list(threshold = 1e-12, maxiter = 1000))
  b <- blup(fit)
  list(method = method, sigma2_u = fit$tau2, beta = unname(as.vector(coef(fit))),
       blup = unname(b$pred))
}
out <- list(r_version = R.version.string,
            metafor_version = as.character(packageVersion("metafor")),
            fits = list(fit_one("REML"), fit_one("ML")))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/reference/r_sae.json")
cat("wrote tests/reference/r_sae.json\n")
