# Reference values for es_survey's Fay-Herriot model (src/es_survey/sae.py).
# The area-level FH model is the random-effects meta-regression of metafor:
# rma(yi, vi, mods = ~ x1 + x2, method = "REML" | "ML"); tau2 is sigma2_u, coef() beta,
# and blup() gives the EBLUPs x'b + gamma (y - x'b). Run from the repository root:
#   Rscript tests/reference/make_reference_sae.R
# Writes tests/reference/sae_areas.csv (the areas), sae_transformed.csv (shares and
# positive counts for the transformed scales) and tests/reference/r_sae.json.
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
# Transformed scales (es_survey.fay_herriot(transform=...)). The model is fitted on the
# transformed estimates by rma; the back-transform to the original scale is the
# expectation of h(theta) for theta ~ N(EBLUP, g1), g1 = gamma * psi, computed here by
# numerical integration (integrate) for arcsin and in closed form for log.
# arcsin: shares p with effective sample sizes n_eff; y = asin(sqrt(p)), psi = 1/(4 n_eff);
# h(t) = sin(t)^2 on [0, pi/2], 0 below and 1 above.
shares <- data.frame(area = sprintf("S%02d", 1:m), x1 = x2)
eta <- asin(sqrt(0.15 + 0.6 * shares$x1)) + rnorm(m, 0, 0.08)
shares$n_eff <- round(runif(m, 3, 40), 1)
shares$share <- round(pmin(pmax(sin(eta + rnorm(m, 0, sqrt(1 / (4 * shares$n_eff))))^2, 0), 1), 4)
# log: positive estimates Y with sampling variances psi on Y's scale; y = log(Y),
# variance psi / Y^2 (delta method); h(t) = exp(t), E h = exp(EBLUP + g1 / 2).
shares$count <- round(exp(1 + 2 * shares$x1 + rnorm(m, 0, 0.3) + rnorm(m, 0, 0.2)), 3)
shares$count_var <- round((0.2 * shares$count)^2, 4)
write.csv(shares, "tests/reference/sae_transformed.csv", row.names = FALSE)
back_arcsin <- function(mu, s2) {
  if (s2 == 0) return(sin(min(max(mu, 0), pi / 2))^2)
  s <- sqrt(s2)
  integrate(function(t) sin(t)^2 * dnorm(t, mu, s), 0, pi / 2,
            rel.tol = 1e-12, abs.tol = 0)$value + pnorm(pi / 2, mu, s, lower.tail = FALSE)
}
fit_transformed <- function(kind) {
  if (kind == "arcsin") {
    yi <- asin(sqrt(shares$share)); vi <- 1 / (4 * shares$n_eff)
  } else {
    yi <- log(shares$count); vi <- shares$count_var / shares$count^2
  }
  fit <- rma(yi, vi, mods = ~ x1, method = "REML", data = shares,
             control = list(threshold = 1e-12, maxiter = 1000))
  pred <- blup(fit)$pred
  g1 <- fit$tau2 / (fit$tau2 + vi) * vi
  est <- if (kind == "arcsin") mapply(back_arcsin, pred, g1) else exp(pred + g1 / 2)
  list(transform = kind, sigma2_u = fit$tau2, beta = unname(as.vector(coef(fit))),
       eblup = unname(pred), g1 = unname(g1), estimate = unname(est))
}
out <- list(r_version = R.version.string,
            metafor_version = as.character(packageVersion("metafor")),
            fits = list(fit_one("REML"), fit_one("ML")),
            transformed = list(fit_transformed("arcsin"), fit_transformed("log")))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/reference/r_sae.json")
cat("wrote tests/reference/r_sae.json\n")
