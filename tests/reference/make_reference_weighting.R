# Reference values from R's `survey` package for weighting (issue 4):
# post-stratification, raking, calibration (linear, raking, logit, bounded), and
# replicate-weight designs (JK1, JKn, BRR, Fay, supplied replicate weights).
#
# Run from the repository root, after make_reference.R (it reads the api CSVs that
# script writes):
#     Rscript tests/reference/make_reference_weighting.R
#
# Writes, beside this script:
#   * apistrat_pairs.csv         -- apistrat plus `pair` (pseudo-stratum of 2 schools)
#                                   and `half` (1/2: PSU within the pair), for BRR / Fay
#   * apistrat_pairs_brr.csv     -- snum, pair, half and R's BRR replicate factors
#                                   b1..bK (0/2) for apistrat_pairs, in data order
#   * apiclus1_jk1_repweights.csv -- apiclus1 plus rw1..rw15: the JK1 replicate
#                                   *analysis* weights R builds for dclus1 (no fpc)
#   * r_weighting.json           -- every case (contract in README.md)
#
# Population totals for post-stratification, raking and calibration are computed here
# from R's `apipop` (the population the api samples were drawn from).
# Same conventions as make_reference.R: CSVs with write.csv(row.names = FALSE, na = ""),
# designs built from the CSVs as read back, numbers written with sprintf("%.17g").

suppressPackageStartupMessages({
  library(survey)
  library(jsonlite)
})

args_all <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args_all[grepl("^--file=", args_all)])
out_dir <- if (length(file_arg) == 1) dirname(normalizePath(file_arg)) else "tests/reference"

options(survey.lonely.psu = "fail", warn = 1)
stopifnot(is.null(getOption("survey.replicates.mse")) || !getOption("survey.replicates.mse"))

EPS <- 1e-10
MAXIT <- 100

# ---------------------------------------------------------------- data
data(api)
read_ref <- function(name) read.csv(file.path(out_dir, name), na.strings = "", stringsAsFactors = FALSE)
env <- new.env()
env$apistrat <- read_ref("apistrat.csv")
env$apiclus1 <- read_ref("apiclus1.csv")

# Pseudo-strata of exactly 2 PSUs for BRR / Fay: within each stype, schools in data
# order are paired (1st+2nd, 3rd+4th, ...); pair = stype + 2-digit pair number,
# half = 1 for the first school of the pair, 2 for the second. n_E = 100, n_H = n_M = 50.
pairs <- env$apistrat
rk <- ave(seq_len(nrow(pairs)), pairs$stype, FUN = seq_along)
pairs$pair <- paste0(pairs$stype, sprintf("%02d", (rk + 1) %/% 2))
pairs$half <- as.integer(2 - rk %% 2)
stopifnot(all(table(pairs$pair) == 2), length(unique(pairs$pair)) == 100)
write.csv(pairs, file.path(out_dir, "apistrat_pairs.csv"), row.names = FALSE, na = "")
env$apistrat_pairs <- read_ref("apistrat_pairs.csv")
stopifnot(identical(env$apistrat_pairs$pair, pairs$pair))

# ---------------------------------------------------------------- population totals
pop_stype <- table(apipop$stype)
pop_schwide <- table(apipop$sch.wide)
stopifnot(!anyNA(apipop$api99), !anyNA(apipop$stype), !anyNA(apipop$sch.wide))
N <- nrow(apipop)
T_api99 <- sum(apipop$api99)
stopifnot(N == 6194, sum(pop_stype) == N, sum(pop_schwide) == N)
env$pop.types <- data.frame(stype = names(pop_stype), Freq = as.vector(pop_stype))
env$pop.schwide <- data.frame(sch.wide = names(pop_schwide), Freq = as.vector(pop_schwide))
env$pop.cal <- c(`(Intercept)` = N, stypeH = pop_stype[["H"]], stypeM = pop_stype[["M"]],
                 api99 = T_api99)
env$pop.cal2 <- c(`(Intercept)` = N, stypeH = pop_stype[["H"]], stypeM = pop_stype[["M"]],
                  sch.wideYes = pop_schwide[["Yes"]])
pop_awards <- table(apipop$awards)
stopifnot(!anyNA(apipop$awards), sum(pop_awards) == N)
env$pop.awards <- data.frame(awards = names(pop_awards), Freq = as.vector(pop_awards))
env$pop.cal3 <- c(`(Intercept)` = N, sch.wideYes = pop_schwide[["Yes"]], awardsYes = pop_awards[["Yes"]])
tot_awards <- as.list(setNames(as.vector(pop_awards), names(pop_awards)))
# the same objects as R code, for reading the cases' r_call
r_setup <- c(
  'pop.types <- data.frame(stype = names(table(apipop$stype)), Freq = as.vector(table(apipop$stype)))',
  'pop.schwide <- data.frame(sch.wide = names(table(apipop$sch.wide)), Freq = as.vector(table(apipop$sch.wide)))',
  'pop.awards <- data.frame(awards = names(table(apipop$awards)), Freq = as.vector(table(apipop$awards)))',
  'pop.cal <- c(`(Intercept)` = nrow(apipop), stypeH = sum(apipop$stype == "H"), stypeM = sum(apipop$stype == "M"), api99 = sum(apipop$api99))',
  'pop.cal2 <- c(`(Intercept)` = nrow(apipop), stypeH = sum(apipop$stype == "H"), stypeM = sum(apipop$stype == "M"), sch.wideYes = sum(apipop$sch.wide == "Yes"))',
  'pop.cal3 <- c(`(Intercept)` = nrow(apipop), sch.wideYes = sum(apipop$sch.wide == "Yes"), awardsYes = sum(apipop$awards == "Yes"))',
  'apiclus1_rw <- read.csv("apiclus1_jk1_repweights.csv", na.strings = "")'
)
local({
  e2 <- new.env()
  e2$apipop <- apipop
  for (line in r_setup[-length(r_setup)]) eval(parse(text = line), envir = e2)
  for (nm in c("pop.types", "pop.schwide", "pop.awards", "pop.cal", "pop.cal2", "pop.cal3")) {
    if (exists(nm, envir = env)) stopifnot(isTRUE(all.equal(get(nm, envir = e2), get(nm, envir = env))))
  }
})
tot_stype <- as.list(setNames(as.vector(pop_stype), names(pop_stype)))
tot_schwide <- as.list(setNames(as.vector(pop_schwide), names(pop_schwide)))

# ---------------------------------------------------------------- base designs
design_calls <- c(
  dstrat = "svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)",
  dclus1 = "svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)",
  dclus1_nofpc = "svydesign(id = ~dnum, weights = ~pw, data = apiclus1)",
  dstrat_nofpc = "svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat)",
  dstratclus = "svydesign(id = ~dnum, strata = ~stype, weights = ~pw, data = apiclus1, nest = TRUE)",
  dpairs = "svydesign(id = ~half, strata = ~pair, weights = ~pw, data = apistrat_pairs, nest = TRUE)"
)
for (nm in names(design_calls)) assign(nm, eval(parse(text = design_calls[[nm]]), envir = env), envir = env)

dspec <- function(weights = NULL, strata = NULL, psu = NULL, fpc = NULL, lonely_psu = "fail") {
  list(weights = weights, strata = strata, psu = psu, fpc = fpc, lonely_psu = lonely_psu)
}
base <- list(
  dstrat = list(data = "apistrat.csv", spec = dspec(weights = "pw", strata = "stype", fpc = "fpc")),
  dclus1 = list(data = "apiclus1.csv", spec = dspec(weights = "pw", psu = "dnum", fpc = "fpc")),
  dclus1_nofpc = list(data = "apiclus1.csv", spec = dspec(weights = "pw", psu = "dnum")),
  dstrat_nofpc = list(data = "apistrat.csv", spec = dspec(weights = "pw", strata = "stype")),
  dstratclus = list(data = "apiclus1.csv", spec = dspec(weights = "pw", strata = "stype", psu = "dnum")),
  dpairs = list(data = "apistrat_pairs.csv", spec = dspec(weights = "pw", strata = "pair", psu = "half"))
)

# ---------------------------------------------------------------- helpers
num <- function(x) {
  x <- as.numeric(x)
  stopifnot(length(x) == 1)
  if (is.na(x)) return(NULL)
  if (is.infinite(x)) stop("infinite value")
  structure(sprintf("%.17g", x), class = "json")
}
nums <- function(x) lapply(as.vector(x), num)
named_empty <- function() setNames(list(), character(0))
ev <- function(call) eval(parse(text = call), envir = env)

# evaluate, capturing warnings (returned as attribute "warnings")
ev_warn <- function(call) {
  w <- character(0)
  val <- withCallingHandlers(ev(call), warning = function(cnd) {
    w <<- c(w, conditionMessage(cnd))
    invokeRestart("muffleWarning")
  })
  list(value = val, warnings = w)
}

mkrow <- function(estimate, se, df, deff, lower, upper, level = 0.95, by = named_empty(),
                  category = "") {
  list(by = by, category = category, estimate = num(estimate), se = num(se), df = num(df),
       deff = num(deff), lower = num(lower), upper = num(upper), level = num(level))
}

cases <- list()
add_case <- function(case) {
  stopifnot(!case$id %in% vapply(cases, function(z) z$id, ""))
  cases[[length(cases) + 1]] <<- case
}

# Weighted designs: `dname` is built in env by `build` (R code, recorded in r_call).
built <- list()
build_design <- function(dname, build) {
  res <- ev_warn(build)
  assign(dname, res$value, envir = env)
  built[[dname]] <<- list(call = build, warnings = res$warnings)
  invisible(res)
}

fun_of <- c(total = "svytotal", mean = "svymean", ratio = "svyratio")

# rows for one estimator on one (weighted) design; by = NULL or one column name
est_rows <- function(dname, estimator, y, by = NULL, denominator = NULL, level = 0.95) {
  d <- get(dname, envir = env)
  is_rep <- inherits(d, "svyrep.design")
  fun <- fun_of[[estimator]]
  extra <- if (estimator == "ratio") sprintf(", ~%s", denominator) else ""
  # svyratio on a replicate design does not support deff = TRUE in survey 4.1.1
  want_deff <- !(estimator == "ratio" && is_rep)
  deff_arg <- if (want_deff) ", deff = TRUE" else ""
  one <- function(dexpr, byvals) {
    est <- ev(sprintf("%s(~%s%s, %s%s)", fun, y, extra, dexpr, deff_arg))
    df <- degf(ev(dexpr))
    ci <- confint(est, df = df, level = level)
    de <- if (want_deff) as.vector(deff(est))[1] else NA
    se <- if (estimator == "ratio") sqrt(as.vector(vcov(est))[1]) else SE(est)[[1]]
    list(row = mkrow(as.vector(coef(est))[1], se, df, de, ci[1, 1], ci[1, 2], level, by = byvals),
         est = as.vector(coef(est))[1], se = se, deff = de)
  }
  if (is.null(by)) {
    call <- sprintf("%s(~%s%s, %s%s)", fun, y, extra, dname, deff_arg)
    return(list(call = call, rows = list(one(dname, named_empty())$row)))
  }
  if (estimator == "ratio") {
    call <- sprintf("svyby(~%s, ~%s, %s, svyratio, denominator = ~%s%s)", y, by, dname,
                    denominator, deff_arg)
  } else {
    call <- sprintf("svyby(~%s, ~%s, %s, %s%s)", y, by, dname, fun, deff_arg)
  }
  res <- ev(call)
  rows <- list()
  for (i in seq_len(nrow(res))) {
    v <- as.character(res[i, by])
    o <- one(sprintf('subset(%s, %s == "%s")', dname, by, v), setNames(list(v), by))
    # the per-domain estimate reproduces svyby exactly
    stopifnot(isTRUE(all.equal(unname(coef(res))[i], o$est, tolerance = 1e-12)),
              isTRUE(all.equal(unname(SE(res))[i], o$se, tolerance = 1e-12)))
    if (want_deff) stopifnot(isTRUE(all.equal(unname(as.vector(deff(res)))[i], o$deff,
                                              tolerance = 1e-12)))
    rows[[length(rows) + 1]] <- o$row
  }
  list(call = call, rows = rows)
}

est_args <- function(estimator, y, by, denominator) {
  if (estimator == "ratio") list(numerator = y, denominator = denominator, by = by, na_rm = FALSE)
  else list(y = y, by = by, na_rm = FALSE)
}

# one case per estimator on a weighted design
add_est_cases <- function(prefix, dname, bkey, steps, ests, extra = list()) {
  for (e in ests) {
    r <- est_rows(dname, e$estimator, e$y, e$by, e$denominator)
    sfx <- paste0(e$estimator, "_", e$y,
                  if (!is.null(e$denominator)) paste0("_", e$denominator) else "",
                  if (!is.null(e$by)) paste0("_by_", gsub("\\.", "", e$by)) else "")
    case <- list(id = paste0(prefix, "_", sfx),
                 r_call = paste0(dname, " <- ", built[[dname]]$call, "; ", r$call),
                 data = base[[bkey]]$data, design = base[[bkey]]$spec, steps = steps,
                 estimator = e$estimator, args = est_args(e$estimator, e$y, e$by, e$denominator))
    case <- c(case, extra)
    case$rows <- r$rows
    case$r_df_note <- if (is.null(e$by)) {
      "df = degf(<weighted design>); t interval confint(est, df = df)"
    } else {
      paste0("each by-domain row: estimate/SE/deff as svyby; df = degf(subset(<weighted design>, ",
             "<domain>)); t interval confint(domain estimate, df = that df)")
    }
    add_case(case)
  }
}

STD <- list(list(estimator = "total", y = "enroll"), list(estimator = "mean", y = "api00"))

# summary of the final weights (and of a replicate design's replicate analysis weights)
weights_check <- function(d) {
  w <- weights(d, "sampling")
  if (inherits(d, "svyrep.design")) w <- d$pweights
  out <- list(n = length(w), sum = num(sum(w)), min = num(min(w)), max = num(max(w)),
              first5 = nums(head(w, 5)))
  if (inherits(d, "svyrep.design")) {
    a <- weights(d, "analysis")
    out$replicate_sums <- nums(colSums(a))
    out$row1_replicate_weights <- nums(a[1, ])
  }
  out
}

# max over margins of |achieved - target| / target, and R's own criterion
# max |achieved - target| / (1 + |target|) (grake)
misfit <- function(d, formula, target) {
  mm <- model.matrix(formula, model.frame(formula, model.frame(d)))
  w <- if (inherits(d, "svyrep.design")) d$pweights else weights(d)
  ach <- colSums(mm * w)
  stopifnot(length(ach) == length(target))
  list(achieved = nums(ach), target = nums(target),
       max_rel = num(max(abs(ach - target) / abs(target))),
       max_r_criterion = num(max(abs(ach - target) / (1 + abs(target)))))
}

convergence <- function(dname, formula, target, how) {
  d <- get(dname, envir = env)
  w <- built[[dname]]$warnings
  c(list(converged = length(w) == 0, how = how, r_warnings = as.list(w)),
    misfit(d, formula, target))
}

steps_ps <- list(op = "poststratify", variable = "stype", totals = tot_stype)
cal_totals <- list(stype = tot_stype, api99 = num(T_api99))
step_cal <- function(method, bounds = NULL) {
  list(op = "calibrate", totals = cal_totals, method = method,
       bounds = if (is.null(bounds)) NULL else nums(bounds), epsilon = num(EPS), max_iter = MAXIT)
}
r_pop_cal <- lapply(as.list(env$pop.cal), num)
f_cal <- ~stype + api99
f_cal2 <- ~stype + sch.wide

# ================================================================ 1. postStratify
build_design("ps_clus1", "postStratify(dclus1, ~stype, pop.types)")
add_est_cases("clus1_ps", "ps_clus1", "dclus1", list(steps_ps),
              c(STD, list(list(estimator = "mean", y = "api00", by = "sch.wide"))),
              list(weights_check = weights_check(env$ps_clus1),
                   convergence = convergence("ps_clus1", ~stype, c(N, pop_stype[["H"]],
                                                                   pop_stype[["M"]]),
                                             "exact (postStratify is closed form)")))

# ================================================================ 2. rake
rake_ctrl <- sprintf("control = list(epsilon = %s, maxit = %d)", format(EPS), MAXIT)
step_rake <- list(op = "rake", margins = list(stype = tot_stype, sch.wide = tot_schwide),
                  epsilon = num(EPS), max_iter = MAXIT)
build_design("rk_clus1", sprintf("rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide), %s)",
                                 rake_ctrl))
rake_conv <- function(dname) {
  c(convergence(dname, f_cal2, env$pop.cal2,
                paste0("rake(): iterated postStratify until max |change| of the stype x sch.wide ",
                       "weighted table < epsilon * sum(weights) (epsilon < 1 is relative in rake)")),
    list(r_variance_note = paste0("rake() variance: the design's estimating functions are ",
                                  "residualised by 10 sweeps of post-stratum centring over the ",
                                  "margins (svyrecvar, class 'raking'), not by an exact projection")))
}
add_est_cases("clus1_rake", "rk_clus1", "dclus1", list(step_rake), STD,
              list(weights_check = weights_check(env$rk_clus1), convergence = rake_conv("rk_clus1")))

# ================================================================ 3-6. calibrate
cal_cases <- list(
  list(id = "clus1_cal_linear", method = "linear", bounds = NULL,
       call = sprintf("calibrate(dclus1, ~stype + api99, pop.cal, epsilon = %s, maxit = %d)", format(EPS), MAXIT),
       how = "linear without bounds: closed form (regcalibrate), no iteration"),
  list(id = "clus1_cal_raking", method = "raking", bounds = NULL,
       call = sprintf('calibrate(dclus1, ~stype + api99, pop.cal, calfun = "raking", epsilon = %s, maxit = %d)',
                      format(EPS), MAXIT),
       how = "grake Newton iterations; stops when max |misfit| / (1 + |target|) < epsilon"),
  list(id = "clus1_cal_logit", method = "logit", bounds = c(0.5, 3),
       call = sprintf('calibrate(dclus1, ~stype + api99, pop.cal, calfun = "logit", bounds = c(0.5, 3), epsilon = %s, maxit = %d)',
                      format(EPS), MAXIT),
       how = "grake Newton iterations; stops when max |misfit| / (1 + |target|) < epsilon"),
  list(id = "clus1_cal_linear_bounded", method = "linear", bounds = c(0.7, 1.7),
       call = sprintf('calibrate(dclus1, ~stype + api99, pop.cal, calfun = "linear", bounds = c(0.7, 1.7), epsilon = %s, maxit = %d)',
                      format(EPS), MAXIT),
       how = paste0("truncated linear (g = 1 + x'eta clipped to the bounds) by grake Newton ",
                    "iterations; stops when max |misfit| / (1 + |target|) < epsilon"))
)
for (cc in cal_cases) {
  dname <- sub("^clus1_", "", cc$id)
  build_design(dname, cc$call)
  d <- get(dname, envir = env)
  g <- weights(d) / weights(env$dclus1)
  if (!is.null(cc$bounds)) stopifnot(min(g) >= cc$bounds[1] - 1e-12, max(g) <= cc$bounds[2] + 1e-12)
  conv <- convergence(dname, f_cal, env$pop.cal, cc$how)
  stopifnot(conv$converged)
  conv$g_range <- nums(range(g))
  add_est_cases(cc$id, dname, "dclus1", list(step_cal(cc$method, cc$bounds)),
                c(STD, list(list(estimator = "total", y = "api99"))),
                list(r_population = r_pop_cal, weights_check = weights_check(d), convergence = conv))
}
# the calibration variable is matched exactly, with SE ~ 0
for (cc in cal_cases) {
  z <- cases[[which(vapply(cases, function(x) x$id, "") == paste0(cc$id, "_total_api99"))]]$rows[[1]]
  stopifnot(abs(as.numeric(z$estimate) - T_api99) < 1e-6 * T_api99, as.numeric(z$se) < 1e-4)
}

# ================================================================ 7. collinear margins
build_design("cal2_linear", sprintf("calibrate(dclus1, ~stype + sch.wide, pop.cal2, epsilon = %s, maxit = %d)",
                                    format(EPS), MAXIT))
build_design("cal2_raking", sprintf('calibrate(dclus1, ~stype + sch.wide, pop.cal2, calfun = "raking", epsilon = %s, maxit = %d)',
                                    format(EPS), MAXIT))
coll_note <- paste0("stype and sch.wide both sum to N: R's model matrix ~stype + sch.wide has one ",
                    "intercept, so r_population has 4 totals (N, N_H, N_M, N_Yes) for the 5 ",
                    "categories of the Python form")
cal2_totals <- list(stype = tot_stype, sch.wide = tot_schwide)
for (m in c("linear", "raking")) {
  dname <- paste0("cal2_", m)
  conv <- convergence(dname, f_cal2, env$pop.cal2,
                      if (m == "linear") "closed form (regcalibrate)" else "grake Newton iterations")
  stopifnot(conv$converged)
  add_est_cases(paste0("clus1_cal2_", m), dname, "dclus1",
                list(list(op = "calibrate", totals = cal2_totals, method = m, bounds = NULL,
                          epsilon = num(EPS), max_iter = MAXIT)),
                c(STD, list(list(estimator = "mean", y = "api00", by = "stype"))),
                list(r_population = lapply(as.list(env$pop.cal2), num), r_collinear_note = coll_note,
                     weights_check = weights_check(get(dname, envir = env)), convergence = conv))
}
# rake with the same margins (== case 2 designs, estimated by stype too)
add_est_cases("clus1_rake", "rk_clus1", "dclus1", list(step_rake),
              list(list(estimator = "mean", y = "api00", by = "stype")),
              list(weights_check = weights_check(env$rk_clus1), convergence = rake_conv("rk_clus1")))
# rake and calibrate(calfun = "raking") give the same weights
# (rake stops on a change in the weighted table < 1e-10 * sum(weights); they agree to ~1e-11)
stopifnot(max(abs(weights(env$rk_clus1) / weights(env$cal2_raking) - 1)) < 1e-9)

# ---------------------------------------------------------------- 7b. rake vs calibrate(raking)
# on a design with unequal initial weights (dstrat), margins sch.wide and awards.
# The weights agree, the SEs do not: see rake_variance_check.
build_design("rk_strat", sprintf("rake(dstrat, list(~sch.wide, ~awards), list(pop.schwide, pop.awards), %s)",
                                 rake_ctrl))
build_design("cal3_raking", sprintf('calibrate(dstrat, ~sch.wide + awards, pop.cal3, calfun = "raking", epsilon = %s, maxit = %d)',
                                    format(EPS), MAXIT))
stopifnot(max(abs(weights(env$rk_strat) / weights(env$cal3_raking) - 1)) < 1e-8)
f_cal3 <- ~sch.wide + awards
# SE of a total after raking, from the estimating functions e = w_final * r, with the
# residuals r of y on the margin dummies fitted by (a) unweighted least squares (what
# rake()'s 10 centring sweeps approximate) or (b) least squares weighted by the initial
# weights (what calibrate() uses)
rake_variance_check <- function(y) {
  w <- weights(env$rk_strat)
  X <- model.matrix(f_cal3, env$apistrat)
  v <- env$apistrat[[y]]
  d0 <- env$dstrat
  se <- function(e) sqrt(as.vector(survey:::svyrecvar(e, d0$cluster, d0$strata, d0$fpc)))
  list(variable = y, statistic = "total",
       se_r_rake = num(SE(svytotal(as.formula(paste0("~", y)), env$rk_strat))),
       se_r_calibrate_raking = num(SE(svytotal(as.formula(paste0("~", y)), env$cal3_raking))),
       se_exact_unweighted_projection = num(se(w * lm.fit(X, v)$residuals)),
       se_initial_weighted_projection = num(se(w * lm.wfit(X, v, weights(d0))$residuals)))
}
rvc <- list(rake_variance_check("enroll"), rake_variance_check("api00"))
rvc_note <- paste0("R's rake() and calibrate(calfun = 'raking') give the same weights here (to 1e-9) but ",
                   "different SEs (4.8% for total enroll): calibrate residualises with a regression ",
                   "weighted by the initial weights (qr of mm * sqrt(w0)); rake() does 10 sweeps of ",
                   "x <- x - psw * ave(x / psw, margin) over the margins (psw = the weights after that ",
                   "margin's postStratify in the last raking pass): unweighted centring, not converged ",
                   "(~1e-6 from the exact unweighted projection). On dclus1 (equal initial weights) ",
                   "both agree to 1e-12.")
step_rake3 <- list(op = "rake", margins = list(sch.wide = tot_schwide, awards = tot_awards),
                   epsilon = num(EPS), max_iter = MAXIT)
add_est_cases("strat_rake", "rk_strat", "dstrat", list(step_rake3), STD,
              list(weights_check = weights_check(env$rk_strat),
                   convergence = convergence("rk_strat", f_cal3, env$pop.cal3, "rake()"),
                   rake_variance_check = rvc, r_variance_note = rvc_note))
conv3 <- convergence("cal3_raking", f_cal3, env$pop.cal3, "grake Newton iterations")
stopifnot(conv3$converged)
add_est_cases("strat_cal3_raking", "cal3_raking", "dstrat",
              list(list(op = "calibrate", totals = list(sch.wide = tot_schwide, awards = tot_awards),
                        method = "raking", bounds = NULL, epsilon = num(EPS), max_iter = MAXIT)),
              STD, list(r_population = lapply(as.list(env$pop.cal3), num),
                        weights_check = weights_check(env$cal3_raking), convergence = conv3,
                        rake_variance_check = rvc, r_variance_note = rvc_note))

# ================================================================ 8. replicate designs
rep_info <- function(r) {
  rs <- as.vector(r$rscales)
  list(n_replicates = ncol(r$repweights), scale = num(r$scale),
       rscales = nums(rs), rscales_distinct = nums(sort(unique(rs))), mse = r$mse,
       degf = degf(r), type = r$type, rho = if (is.null(r$rho)) NULL else num(r$rho),
       combined_weights = r$combined.weights)
}
REP_ESTS <- c(STD, list(list(estimator = "mean", y = "api00", by = "stype"),
                        list(estimator = "ratio", y = "api00", denominator = "api99")))
reps <- list(
  list(prefix = "clus1_jk1", base = "dclus1_nofpc", method = "JK1", rho = NULL, mse = FALSE,
       call = 'as.svrepdesign(dclus1_nofpc, type = "JK1")'),
  list(prefix = "clus1_jk1_mse", base = "dclus1_nofpc", method = "JK1", rho = NULL, mse = TRUE,
       call = 'as.svrepdesign(dclus1_nofpc, type = "JK1", mse = TRUE)'),
  list(prefix = "strat_jkn", base = "dstrat_nofpc", method = "JKn", rho = NULL, mse = FALSE,
       call = 'as.svrepdesign(dstrat_nofpc, type = "JKn")'),
  list(prefix = "stratclus_jkn", base = "dstratclus", method = "JKn", rho = NULL, mse = FALSE,
       call = 'as.svrepdesign(dstratclus, type = "JKn")'),
  list(prefix = "pairs_brr", base = "dpairs", method = "BRR", rho = NULL, mse = FALSE,
       call = 'as.svrepdesign(dpairs, type = "BRR")'),
  list(prefix = "pairs_brr_mse", base = "dpairs", method = "BRR", rho = NULL, mse = TRUE,
       call = 'as.svrepdesign(dpairs, type = "BRR", mse = TRUE)'),
  list(prefix = "pairs_fay", base = "dpairs", method = "Fay", rho = 0.3, mse = FALSE,
       call = 'as.svrepdesign(dpairs, type = "Fay", fay.rho = 0.3)')
)
rep_note <- paste0("replicate variance = scale * sum_r rscales[r] * (theta_r - c)^2 with c = mean of ",
                   "the replicate estimates (mse = false) or the full-sample estimate (mse = true); ",
                   "df = degf = qr(weights(design, 'analysis'), tol = 1e-5)$rank - 1 ",
                   "(for a by-domain row: of the subset's analysis weights)")
for (rp in reps) {
  dname <- paste0("rep_", rp$prefix)
  build_design(dname, rp$call)
  r <- get(dname, envir = env)
  stopifnot(length(built[[dname]]$warnings) == 0, r$mse == rp$mse)
  add_est_cases(rp$prefix, dname, rp$base,
                list(list(op = "replicate", method = rp$method,
                          rho = if (is.null(rp$rho)) NULL else num(rp$rho), mse = rp$mse)),
                REP_ESTS, list(replicate = rep_info(r), r_replicate_note = rep_note))
}
# BRR on a design with full orthogonal balance: totals equal the linearisation totals' SE
stopifnot(abs(as.vector(SE(svytotal(~enroll, env$rep_pairs_brr))) /
              as.vector(SE(svytotal(~enroll, env$dpairs))) - 1) < 1e-12)
# R's BRR replicate factors (which half of each pair is doubled), from survey's own
# Hadamard matrix; Fay's are rho + (1 - rho) * BRR's.
brr_f <- as.matrix(env$rep_pairs_brr$repweights)
fay_f <- as.matrix(env$rep_pairs_fay$repweights)
stopifnot(all(brr_f %in% c(0, 2)), isTRUE(all.equal(fay_f, 0.3 + 0.7 * brr_f, tolerance = 1e-14,
                                                     check.attributes = FALSE)))
brr_out <- data.frame(snum = env$apistrat_pairs$snum, pair = env$apistrat_pairs$pair,
                      half = env$apistrat_pairs$half)
brr_out <- cbind(brr_out, setNames(as.data.frame(brr_f), paste0("b", seq_len(ncol(brr_f)))))
write.csv(brr_out, file.path(out_dir, "apistrat_pairs_brr.csv"), row.names = FALSE, na = "")

# ================================================================ 9. supplied replicate weights
jk1 <- as.svrepdesign(env$dclus1_nofpc, type = "JK1", compress = FALSE)
aw <- weights(jk1, type = "analysis")
stopifnot(isTRUE(all.equal(aw, as.matrix(jk1$repweights) * jk1$pweights, check.attributes = FALSE)))
sup <- env$apiclus1
K <- ncol(aw)
for (k in seq_len(K)) sup[[paste0("rw", k)]] <- aw[, k]
write.csv(sup, file.path(out_dir, "apiclus1_jk1_repweights.csv"), row.names = FALSE, na = "")
env$apiclus1_rw <- read_ref("apiclus1_jk1_repweights.csv")
# write.csv keeps 15 significant digits: the weights read back are what R and Python use
stopifnot(max(abs(as.matrix(env$apiclus1_rw[paste0("rw", 1:K)]) - aw) / aw[aw > 0][1]) < 1e-13)
env$jk1_scale <- jk1$scale
build_design("sup_jk1", sprintf(paste0('svrepdesign(data = apiclus1_rw, repweights = "rw[0-9]+", ',
                                       'weights = ~pw, type = "JK1", scale = %s, combined.weights = TRUE)'),
                                sprintf("%.17g", jk1$scale)))
rw_cols <- paste0("rw", 1:K)
sup_design <- list(weights = "pw", replicate_weights = as.list(rw_cols), method = "JK1",
                   scale = num(env$sup_jk1$scale), rscales = nums(env$sup_jk1$rscales), mse = FALSE)
for (e in REP_ESTS) {
  r <- est_rows("sup_jk1", e$estimator, e$y, e$by, e$denominator)
  sfx <- paste0(e$estimator, "_", e$y, if (!is.null(e$denominator)) paste0("_", e$denominator) else "",
                if (!is.null(e$by)) paste0("_by_", e$by) else "")
  case <- list(id = paste0("clus1_supplied_jk1_", sfx),
               r_call = paste0("sup_jk1 <- ", built$sup_jk1$call, "; ", r$call),
               data = "apiclus1_jk1_repweights.csv", design_class = "ReplicateDesign",
               design = sup_design, steps = list(), estimator = e$estimator,
               args = est_args(e$estimator, e$y, e$by, e$denominator),
               replicate = rep_info(env$sup_jk1), r_replicate_note = rep_note, rows = r$rows)
  # same as the JK1 design R built itself
  twin <- cases[[which(vapply(cases, function(x) x$id, "") == paste0("clus1_jk1_", sfx))]]
  a <- unlist(lapply(case$rows, function(x) as.numeric(unlist(x[c("estimate", "se", "df")]))))
  b <- unlist(lapply(twin$rows, function(x) as.numeric(unlist(x[c("estimate", "se", "df")]))))
  stopifnot(isTRUE(all.equal(a, b, tolerance = 1e-12)))
  add_case(case)
}

# ================================================================ 10. postStratify a replicate design
build_design("rep_jk1_ps", "postStratify(rep_clus1_jk1, ~stype, pop.types)")
add_est_cases("clus1_jk1_ps", "rep_jk1_ps", "dclus1_nofpc",
              list(list(op = "replicate", method = "JK1", rho = NULL, mse = FALSE), steps_ps), STD,
              list(replicate = rep_info(env$rep_jk1_ps), r_replicate_note = paste0(
                     rep_note, "; postStratify on a replicate design post-stratifies each replicate ",
                     "to the same totals (replicate_sums in weights_check)"),
                   weights_check = weights_check(env$rep_jk1_ps)))
stopifnot(all(abs(colSums(weights(env$rep_jk1_ps, "analysis")) - N) < 1e-6))

# ================================================================ 11. bounds that cannot be met
fail_case <- function(id, method, call) {
  err <- NULL
  w <- character(0)
  err <- tryCatch(withCallingHandlers(ev(call), warning = function(cnd) {
    w <<- c(w, conditionMessage(cnd))
    invokeRestart("muffleWarning")
  }), error = function(e) conditionMessage(e))
  stopifnot(is.character(err))
  case <- list(id = id, r_call = call, data = "apiclus1.csv", design = base$dclus1$spec,
               steps = list(step_cal(method, c(0.99, 1.01))), estimator = "total",
               args = est_args("total", "enroll", NULL, NULL), expect_error = TRUE,
               r_error = err, r_warnings = as.list(w), r_population = r_pop_cal, rows = list())
  # what R reaches when forced on (force = TRUE), for the achieved-vs-target table
  forced <- tryCatch(suppressWarnings(ev(sub("\\)$", ", force = TRUE)", call))),
                     error = function(e) NULL)
  if (!is.null(forced)) case$r_forced <- misfit(forced, f_cal, env$pop.cal)
  else case$r_forced_note <- "calibrate(..., force = TRUE) fails with the same error: R has no achieved totals"
  add_case(case)
}
fail_case("clus1_cal_linear_infeasible", "linear",
          sprintf('calibrate(dclus1, ~stype + api99, pop.cal, calfun = "linear", bounds = c(0.99, 1.01), epsilon = %s, maxit = %d)',
                  format(EPS), MAXIT))
fail_case("clus1_cal_logit_infeasible", "logit",
          sprintf('calibrate(dclus1, ~stype + api99, pop.cal, calfun = "logit", bounds = c(0.99, 1.01), epsilon = %s, maxit = %d)',
                  format(EPS), MAXIT))

# ---------------------------------------------------------------- output
out <- list(
  r_version = R.version.string,
  survey_version = as.character(packageVersion("survey")),
  generated_by = "Rscript tests/reference/make_reference_weighting.R",
  options = list(survey.lonely.psu = "fail", survey.replicates.mse = "FALSE (default) unless mse = TRUE",
                 epsilon = num(EPS), maxit = MAXIT),
  populations = list(source = "R data(api): apipop", N = N, stype = tot_stype,
                     sch.wide = tot_schwide, api99_total = num(T_api99)),
  r_setup = as.list(r_setup),
  r_designs = as.list(design_calls),
  cases = cases
)
json <- toJSON(out, auto_unbox = TRUE, null = "null", na = "null", json_verbatim = TRUE, pretty = TRUE)
writeLines(json, file.path(out_dir, "r_weighting.json"))
cat(sprintf("wrote %d cases to %s\n", length(cases), file.path(out_dir, "r_weighting.json")))
