# Reference values from R's `survey` package for the es_survey test suite.
#
# Run from the repository root:
#     Rscript tests/reference/make_reference.R
#
# Writes, beside this script:
#   * apistrat.csv, apiclus1.csv, apiclus2.csv, apisrs.csv  -- R's bundled `api` data
#   * apiclus2_frac.csv      -- apiclus2 plus frac1, frac2 (fpc as sampling fractions)
#   * apistrat_lonely.csv    -- apistrat plus stratum2 (one "H" school moved to stratum "X")
#   * apistrat_certainty.csv -- apistrat with stratum "H" taken completely (fpc = 50, pw = 1)
#   * r_reference.json       -- every case (see README.md for the JSON contract)
#
# CSV conventions: write.csv(row.names = FALSE, na = ""), i.e. missing values are
# written as the empty string "". Every CSV has an added integer column
# `sw` = 1 if sch.wide == "Yes" else 0.
# The designs below are built from the CSVs as read back by read.csv, so R and Python
# use exactly the same numbers (write.csv keeps 15 significant digits).
# JSON numbers are written with sprintf("%.17g") so that they round-trip exactly.

suppressPackageStartupMessages({
  library(survey)
  library(jsonlite)
})

args_all <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args_all[grepl("^--file=", args_all)])
out_dir <- if (length(file_arg) == 1) dirname(normalizePath(file_arg)) else "tests/reference"

options(survey.lonely.psu = "fail", warn = 1)

# ---------------------------------------------------------------- data sets
data(api)
add_sw <- function(d) {
  d$sw <- as.integer(d$sch.wide == "Yes")
  d
}
raw <- list(
  apistrat = add_sw(apistrat),
  apiclus1 = add_sw(apiclus1),
  apiclus2 = add_sw(apiclus2),
  apisrs = add_sw(apisrs)
)

# fpc as sampling fractions for the two-stage design: frac1 = PSUs sampled / fpc1,
# frac2 = SSUs sampled in that PSU / fpc2.
c2 <- raw$apiclus2
n_psu <- length(unique(c2$dnum))
n_ssu <- ave(c2$snum, c2$dnum, FUN = length)
c2$frac1 <- n_psu / c2$fpc1
c2$frac2 <- n_ssu / c2$fpc2
raw$apiclus2_frac <- c2

# Lonely PSU: the first "H" school (in data order) moved to its own stratum "X".
lonely <- raw$apistrat
lonely$stratum2 <- as.character(lonely$stype)
lonely_row <- which(lonely$stype == "H")[1]
lonely$stratum2[lonely_row] <- "X"
raw$apistrat_lonely <- lonely

# Certainty stratum: stratum "H" sampled completely (fpc = n_h = 50, weight 1).
cert <- raw$apistrat
is_h <- cert$stype == "H"
stopifnot(sum(is_h) == 50)
cert$fpc[is_h] <- 50
cert$pw[is_h] <- 1
raw$apistrat_certainty <- cert

dat <- list()
for (nm in names(raw)) {
  path <- file.path(out_dir, paste0(nm, ".csv"))
  write.csv(raw[[nm]], path, row.names = FALSE, na = "")
  dat[[nm]] <- read.csv(path, na.strings = "", stringsAsFactors = FALSE)
  stopifnot(nrow(dat[[nm]]) == nrow(raw[[nm]]))
  stopifnot(identical(colSums(is.na(dat[[nm]]))[c("enroll", "api00", "acs.k3")],
                      colSums(is.na(raw[[nm]]))[c("enroll", "api00", "acs.k3")]))
}

# ---------------------------------------------------------------- designs
env <- new.env()
env$dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = dat$apistrat, fpc = ~fpc)
env$dstrat_nofpc <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = dat$apistrat)
env$dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = dat$apiclus1, fpc = ~fpc)
env$dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = dat$apiclus2)
env$dclus2_frac <- svydesign(id = ~dnum + snum, fpc = ~frac1 + frac2, data = dat$apiclus2_frac)
env$dsrs <- svydesign(id = ~1, fpc = ~fpc, data = dat$apisrs)
env$dstratclus <- svydesign(id = ~dnum, strata = ~stype, weights = ~pw, data = dat$apiclus1,
                            nest = TRUE)
env$dlonely <- svydesign(id = ~1, strata = ~stratum2, weights = ~pw, data = dat$apistrat_lonely)
env$dcertainty <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = dat$apistrat_certainty,
                            fpc = ~fpc)

dspec <- function(weights = NULL, strata = NULL, psu = NULL, fpc = NULL, lonely_psu = "fail") {
  list(weights = weights, strata = strata, psu = psu, fpc = fpc, lonely_psu = lonely_psu)
}
designs <- list(
  strat = list(r = "dstrat", data = "apistrat",
               spec = dspec(weights = "pw", strata = "stype", fpc = "fpc")),
  stratnofpc = list(r = "dstrat_nofpc", data = "apistrat",
                    spec = dspec(weights = "pw", strata = "stype")),
  clus1 = list(r = "dclus1", data = "apiclus1",
               spec = dspec(weights = "pw", psu = "dnum", fpc = "fpc")),
  clus2 = list(r = "dclus2", data = "apiclus2",
               spec = dspec(psu = c("dnum", "snum"), fpc = c("fpc1", "fpc2"))),
  clus2frac = list(r = "dclus2_frac", data = "apiclus2_frac",
                   spec = dspec(psu = c("dnum", "snum"), fpc = c("frac1", "frac2"))),
  srs = list(r = "dsrs", data = "apisrs", spec = dspec(fpc = "fpc")),
  stratclus = list(r = "dstratclus", data = "apiclus1",
                   spec = dspec(weights = "pw", strata = "stype", psu = "dnum")),
  certainty = list(r = "dcertainty", data = "apistrat_certainty",
                   spec = dspec(weights = "pw", strata = "stype", fpc = "fpc"))
)
for (opt in c("fail", "remove", "certainty", "adjust", "average")) {
  designs[[paste0("lonely_", opt)]] <- list(
    r = "dlonely", data = "apistrat_lonely", lonely = opt,
    spec = dspec(weights = "pw", strata = "stratum2", lonely_psu = opt))
}

# ---------------------------------------------------------------- helpers
num <- function(x) {
  # a number (or NA/NaN -> null) written with 17 significant digits
  x <- as.numeric(x)
  stopifnot(length(x) == 1)
  if (is.na(x)) return(NULL)
  if (is.infinite(x)) stop("infinite value")
  structure(sprintf("%.17g", x), class = "json")
}
named_empty <- function() setNames(list(), character(0))

run <- function(call, lonely = "fail") {
  old <- options(survey.lonely.psu = lonely)
  on.exit(options(old))
  eval(parse(text = call), envir = env)
}
rdesign <- function(d) get(d$r, envir = env)
dom_expr <- function(dname, cond) if (is.null(cond)) dname else sprintf("subset(%s, %s)", dname, cond)
eq_expr <- function(col, val) {
  if (is.character(val)) sprintf('%s == "%s"', col, val) else sprintf("%s == %s", col, format(val))
}
notna_expr <- function(vars) paste(sprintf("!is.na(%s)", vars), collapse = " & ")
and_expr <- function(...) {
  parts <- unlist(list(...))
  parts <- parts[nzchar(parts)]
  if (length(parts) == 0) NULL else paste(parts, collapse = " & ")
}

mkrow <- function(estimate, se, df, deff, lower, upper, level = 0.95, by = named_empty(),
                  category = "", variable = NULL) {
  r <- list(by = by, category = category)
  if (!is.null(variable)) r$variable <- variable
  c(r, list(estimate = num(estimate), se = num(se), df = num(df), deff = num(deff),
            lower = num(lower), upper = num(upper), level = num(level)))
}

# levels of a variable as svymean/svytotal expand it (NULL for numeric variables)
var_levels <- function(data, v) {
  x <- data[[v]]
  if (is.character(x) || is.factor(x) || is.logical(x)) sort(unique(as.character(x[!is.na(x)])))
  else NULL
}

cases <- list()
add_case <- function(case) {
  stopifnot(!case$id %in% vapply(cases, function(z) z$id, ""))
  cases[[length(cases) + 1]] <<- case
}
new_case <- function(id, dkey, r_call, estimator, args) {
  d <- designs[[dkey]]
  list(id = id, r_call = r_call, data = paste0(d$data, ".csv"), design = d$spec,
       estimator = estimator, args = args)
}
lonely_of <- function(dkey) if (is.null(designs[[dkey]]$lonely)) "fail" else designs[[dkey]]$lonely
with_opt <- function(call, dkey) {
  opt <- lonely_of(dkey)
  if (opt == "fail") call else sprintf('options(survey.lonely.psu = "%s"); %s', opt, call)
}

# rows of a svymean/svytotal/svyratio result on one (domain) design
stat_rows <- function(est, data, y, df, level, by = named_empty(), ratio = FALSE) {
  cf <- coef(est)
  se <- SE(est)
  de <- deff(est)
  ci <- confint(est, df = df, level = level)
  rows <- list()
  idx <- 0
  for (v in y) {
    labs <- if (ratio) "" else var_levels(data, v)
    if (is.null(labs)) labs <- ""
    for (lab in labs) {
      idx <- idx + 1
      nm <- if (ratio) names(cf)[idx] else paste0(v, lab)
      if (!ratio) stopifnot(names(cf)[idx] == nm)
      rows[[length(rows) + 1]] <- mkrow(
        cf[[idx]], se[[idx]], df, if (is.null(de)) NA else as.vector(de)[idx],
        ci[idx, 1], ci[idx, 2], level, by = by, category = lab,
        variable = if (length(y) > 1) v else NULL)
    }
  }
  stopifnot(idx == length(cf))
  rows
}

fun_of <- c(total = "svytotal", mean = "svymean", ratio = "svyratio")

# total / mean / ratio, optionally by= (svyby) and/or on a domain (subset)
case_stat <- function(id, dkey, estimator, y, by = NULL, na_rm = FALSE, domain = NULL,
                      denominator = NULL, df_inf = FALSE, level = 0.95) {
  d <- designs[[dkey]]
  data <- dat[[d$data]]
  lonely <- lonely_of(dkey)
  fml <- paste0("~", paste(y, collapse = " + "))
  extra <- if (estimator == "ratio") sprintf(", ~%s", denominator) else ""
  narm <- if (na_rm) ", na.rm = TRUE" else ""
  dcond <- if (is.null(domain)) NULL else eq_expr(domain$column, domain$equals)
  dexpr <- dom_expr(d$r, dcond)
  fun <- fun_of[[estimator]]
  yvars <- if (estimator == "ratio") c(y, denominator) else y
  if (is.null(by)) {
    call <- sprintf("%s(%s%s, %s%s, deff = TRUE)", fun, fml, extra, dexpr, narm)
    est <- run(call, lonely)
    dfcond <- and_expr(dcond, if (na_rm) notna_expr(yvars) else "")
    df <- degf(run(dom_expr(d$r, dfcond), lonely))
    rows <- if (df_inf) {
      ci <- confint(est, level = level)
      r <- stat_rows(est, data, y, df, level, ratio = estimator == "ratio")
      for (i in seq_along(r)) {
        r[[i]]$lower <- num(ci[i, 1])
        r[[i]]$upper <- num(ci[i, 2])
      }
      r
    } else {
      stat_rows(est, data, y, df, level, ratio = estimator == "ratio")
    }
  } else {
    byf <- paste0("~", paste(by, collapse = " + "))
    if (estimator == "ratio") {
      call <- sprintf("svyby(%s, %s, %s, svyratio, denominator = ~%s%s, deff = TRUE)",
                      fml, byf, dexpr, denominator, narm)
    } else {
      call <- sprintf("svyby(%s, %s, %s, %s%s, deff = TRUE)", fml, byf, dexpr, fun, narm)
    }
    res <- run(call, lonely)
    rows <- list()
    mine <- list(est = c(), se = c(), deff = c())
    for (i in seq_len(nrow(res))) {
      byvals <- lapply(by, function(b) {
        v <- res[i, b]
        if (is.factor(v)) as.character(v) else v
      })
      names(byvals) <- by
      conds <- vapply(by, function(b) eq_expr(b, byvals[[b]]), "")
      cond_i <- and_expr(dcond, conds)
      sub_call <- sprintf("%s(%s%s, %s%s, deff = TRUE)", fun, fml, extra,
                          dom_expr(d$r, cond_i), narm)
      est_i <- run(sub_call, lonely)
      dfcond <- and_expr(cond_i, if (na_rm) notna_expr(yvars) else "")
      df_i <- degf(run(dom_expr(d$r, dfcond), lonely))
      rows <- c(rows, stat_rows(est_i, data, y, df_i, level, by = byvals,
                                ratio = estimator == "ratio"))
      mine$est <- c(mine$est, coef(est_i))
      mine$se <- c(mine$se, SE(est_i))
      mine$deff <- c(mine$deff, as.vector(deff(est_i)))
    }
    # the per-domain calls reproduce svyby exactly
    stopifnot(isTRUE(all.equal(sort(unname(coef(res))), sort(unname(mine$est)), tolerance = 1e-12)))
    stopifnot(isTRUE(all.equal(sort(unname(as.vector(SE(res)))), sort(unname(mine$se)),
                               tolerance = 1e-12)))
    stopifnot(isTRUE(all.equal(sort(unname(as.vector(deff(res)))), sort(unname(mine$deff)),
                               tolerance = 1e-12)))
  }
  args <- if (estimator == "ratio") {
    list(numerator = y, denominator = denominator, by = by, na_rm = na_rm)
  } else {
    list(y = if (length(y) == 1) y else as.list(y), by = if (length(by) <= 1) by else as.list(by),
         na_rm = na_rm)
  }
  if (estimator == "ratio" && length(by) > 1) args$by <- as.list(by)
  if (!is.null(domain)) args$domain <- domain
  case <- new_case(id, dkey, with_opt(call, dkey), estimator, args)
  if (df_inf) {
    case$df <- "inf"
    case$r_call <- paste0("est <- ", case$r_call, "; confint(est)")
    case$r_df_note <- "normal interval confint(est) without df; rows show df = degf(design)"
  }
  case$rows <- rows
  if (!is.null(by)) {
    case$r_df_note <- paste0("each by-domain row: estimate/SE/deff as svyby; df = degf(subset(design, ",
                             "<domain condition>", if (na_rm) " & !is.na(y)" else "",
                             ")); t interval confint(domain estimate, df = that df)")
  } else if (na_rm) {
    case$r_df_note <- "df = degf(subset(design, !is.na(y))); t interval with that df"
  } else if (!is.null(domain)) {
    case$r_df_note <- "df = degf(subset(design, <domain>)); t interval with that df"
  }
  add_case(case)
}

# svyciprop
case_prop <- function(id, dkey, y, method, level = 0.95, domain = NULL) {
  d <- designs[[dkey]]
  lonely <- lonely_of(dkey)
  rmethod <- if (method == "wald") "mean" else method
  dcond <- if (is.null(domain)) NULL else eq_expr(domain$column, domain$equals)
  dexpr <- dom_expr(d$r, dcond)
  call <- sprintf('svyciprop(~%s, %s, method = "%s", level = %s)', y, dexpr, rmethod, format(level))
  est <- run(call, lonely)
  dd <- run(dexpr, lonely)
  df <- degf(dd)
  ci <- attr(est, "ci")
  m <- run(sprintf("svymean(~%s, %s, deff = TRUE)", y, dexpr), lonely)
  # svyciprop(method = "logit") takes its estimate from an svyglm fit (IRLS), which
  # differs from the exact weighted mean by a few 1e-10 at most
  stopifnot(abs(as.vector(est) - unname(coef(m))[1]) < 1e-9)
  args <- list(y = y, by = NULL, method = method, level = num(level))
  if (!is.null(domain)) args$domain <- domain
  case <- new_case(id, dkey, call, "proportion", args)
  case$rows <- list(mkrow(as.vector(est), SE(est), df, as.vector(deff(m)), ci[1], ci[2], level))
  if (method == "logit") {
    case$r_estimate_note <- sprintf(paste0("estimate is expit(coef(svyglm(sw ~ 1, quasibinomial))); ",
                                           "it differs from svymean by %.3g"),
                                    as.vector(est) - unname(coef(m))[1])
  }
  case$r_df_note <- paste0("svyciprop default df = degf(design) (of the domain design for a domain); ",
                           "deff taken from svymean(~", y, ", <design>, deff = TRUE)",
                           if (method == "beta") "; beta also uses nrow(design) - 1 in its n.eff" else "")
  add_case(case)
}

# svyquantile (Woodruff, qrule = "math", df = NULL -> degf(design))
case_quant <- function(id, dkey, y, q, by = NULL) {
  d <- designs[[dkey]]
  lonely <- lonely_of(dkey)
  qs <- paste0("c(", paste(as.character(q), collapse = ", "), ")")
  qrows <- function(dexpr, byvals) {
    call <- sprintf("svyquantile(~%s, %s, quantiles = %s, ci = TRUE)", y, dexpr, qs)
    res <- run(call, lonely)
    mat <- res[[y]]
    se <- SE(res)
    stopifnot(isTRUE(all.equal(unname(se), unname(mat[, "se"]))))
    df <- degf(run(dexpr, lonely))
    lapply(seq_along(q), function(i) {
      mkrow(mat[i, "quantile"], mat[i, "se"], df, NA, mat[i, 2], mat[i, 3], 0.95,
            by = byvals, category = as.character(q[i]))
    })
  }
  if (is.null(by)) {
    call <- sprintf("svyquantile(~%s, %s, quantiles = %s, ci = TRUE)", y, d$r, qs)
    rows <- qrows(d$r, named_empty())
  } else {
    call <- sprintf("svyby(~%s, ~%s, %s, svyquantile, quantiles = %s, ci = TRUE)", y, by, d$r, qs)
    res <- run(call, lonely)
    rows <- list()
    for (i in seq_len(nrow(res))) {
      v <- as.character(res[i, by])
      byvals <- setNames(list(v), by)
      rows <- c(rows, qrows(dom_expr(d$r, eq_expr(by, v)), byvals))
    }
    mine_est <- vapply(rows, function(r) as.numeric(unclass(r$estimate)), 0)
    stopifnot(isTRUE(all.equal(sort(unname(coef(res))), sort(mine_est))))
  }
  case <- new_case(id, dkey, call, "quantile", list(y = y, q = lapply(q, num), by = by, level = num(0.95)))
  case$rows <- rows
  case$r_df_note <- paste0("svyquantile(df = NULL) uses df = degf(design) (for a by-domain: degf of the ",
                           "domain subset); Woodruff interval (interval.type = \"mean\"), qrule = \"math\", ",
                           "alpha = 0.05; se = (upper - lower) / (2 * qt(0.975, df)); interval endpoints ",
                           "are themselves qrule=\"math\" quantiles, so they are step-valued (data values)")
  add_case(case)
}

case_contrast <- function(id, dkey, y, by, weights) {
  d <- designs[[dkey]]
  wtxt <- paste0("c(", paste(sprintf("%s = %s", names(weights), as.character(weights)), collapse = ", "), ")")
  call <- sprintf("svycontrast(svyby(~%s, ~%s, %s, svymean, covmat = TRUE), %s)", y, by, d$r, wtxt)
  con <- run(call)
  df <- degf(rdesign(d))
  ci <- confint(con, df = df)
  case <- new_case(id, dkey, call, "contrast",
                   list(y = y, by = by, statistic = "mean", weights = as.list(weights)))
  case$rows <- list(mkrow(coef(con), SE(con), df, NA, ci[1, 1], ci[1, 2], 0.95))
  case$r_df_note <- "lower/upper = confint(contrast, df = degf(design)) (t with the full design df)"
  add_case(case)
}

# ---------------------------------------------------------------- cases
main <- c("strat", "stratnofpc", "clus1", "clus2", "clus2frac", "srs")
for (k in main) {
  dat_k <- dat[[designs[[k]]$data]]
  enroll_na <- any(is.na(dat_k$enroll))
  sfx <- if (enroll_na) "_narm" else ""
  case_stat(paste0(k, "_total_enroll", sfx), k, "total", "enroll", na_rm = enroll_na)
  case_stat(paste0(k, "_mean_api00"), k, "mean", "api00")
  case_stat(paste0(k, "_mean_api00_api99"), k, "mean", c("api00", "api99"))
  case_stat(paste0(k, "_mean_api00_by_stype"), k, "mean", "api00", by = "stype")
  case_stat(paste0(k, "_total_enroll_by_stype", sfx), k, "total", "enroll", by = "stype",
            na_rm = enroll_na)
  case_stat(paste0(k, "_ratio_api00_api99"), k, "ratio", "api00", denominator = "api99")
  case_stat(paste0(k, "_ratio_api00_api99_by_stype"), k, "ratio", "api00", denominator = "api99",
            by = "stype")
  case_stat(paste0(k, "_mean_stype"), k, "mean", "stype")
  case_stat(paste0(k, "_total_stype"), k, "total", "stype")
  case_stat(paste0(k, "_mean_awards"), k, "mean", "awards")
  case_stat(paste0(k, "_mean_sw"), k, "mean", "sw")
  case_stat(paste0(k, "_total_sw"), k, "total", "sw")
  for (m in c("logit", "beta", "wald")) {
    case_prop(paste0(k, "_prop_sw_", m), k, "sw", m)
  }
  case_stat(paste0(k, "_mean_acsk3_narm"), k, "mean", "acs.k3", na_rm = TRUE)
  case_stat(paste0(k, "_total_acsk3_narm"), k, "total", "acs.k3", na_rm = TRUE)
  case_stat(paste0(k, "_mean_api00_domE"), k, "mean", "api00",
            domain = list(column = "stype", equals = "E"))
  case_stat(paste0(k, "_total_enroll_domE", sfx), k, "total", "enroll", na_rm = enroll_na,
            domain = list(column = "stype", equals = "E"))
}
for (k in c("strat", "clus1")) {
  for (m in c("logit", "beta", "wald")) {
    case_prop(paste0(k, "_prop_sw_", m, "_l90"), k, "sw", m, level = 0.9)
    case_prop(paste0(k, "_prop_sw_", m, "_domE"), k, "sw", m,
              domain = list(column = "stype", equals = "E"))
  }
}
# two by-columns
case_stat("strat_mean_api00_by_stype_schwide", "strat", "mean", "api00", by = c("stype", "sch.wide"))
case_stat("strat_total_enroll_by_stype_schwide", "strat", "total", "enroll", by = c("stype", "sch.wide"))
case_stat("clus1_mean_api00_by_stype_schwide", "clus1", "mean", "api00", by = c("stype", "sch.wide"))
# variables with missing values
for (k in c("clus1", "srs")) {
  case_stat(paste0(k, "_mean_avged_narm"), k, "mean", "avg.ed", na_rm = TRUE)
  case_stat(paste0(k, "_total_avged_narm"), k, "total", "avg.ed", na_rm = TRUE)
}
case_stat("clus1_mean_avged_by_stype_narm", "clus1", "mean", "avg.ed", by = "stype", na_rm = TRUE)
# normal intervals
case_stat("clus1_mean_api00_dfinf", "clus1", "mean", "api00", df_inf = TRUE)
case_stat("strat_total_enroll_dfinf", "strat", "total", "enroll", df_inf = TRUE)
# quantiles
for (k in c("strat", "clus1", "clus2", "srs")) {
  case_quant(paste0(k, "_quantile_api00"), k, "api00", c(0.25, 0.5, 0.75))
}
case_quant("strat_quantile_api00_by_stype", "strat", "api00", c(0.25, 0.5, 0.75), by = "stype")
# stratified cluster design (PSUs nested in strata)
case_stat("stratclus_total_enroll", "stratclus", "total", "enroll")
case_stat("stratclus_mean_api00", "stratclus", "mean", "api00")
case_stat("stratclus_mean_api00_by_stype", "stratclus", "mean", "api00", by = "stype")
# certainty stratum
case_stat("certainty_total_enroll", "certainty", "total", "enroll")
case_stat("certainty_mean_api00", "certainty", "mean", "api00")
case_stat("certainty_mean_api00_by_stype", "certainty", "mean", "api00", by = "stype")
# lonely PSUs
for (opt in c("remove", "certainty", "adjust", "average")) {
  k <- paste0("lonely_", opt)
  case_stat(paste0(k, "_total_enroll"), k, "total", "enroll")
  case_stat(paste0(k, "_mean_api00"), k, "mean", "api00")
}
fail_err <- tryCatch({
  run("svytotal(~enroll, dlonely, deff = TRUE)", "fail")
  NULL
}, error = function(e) conditionMessage(e))
stopifnot(!is.null(fail_err))
fc <- new_case("lonely_fail_total_enroll", "lonely_fail", "svytotal(~enroll, dlonely, deff = TRUE)",
               "total", list(y = "enroll", by = NULL, na_rm = FALSE))
fc$expect_error <- TRUE
fc$r_error <- fail_err
fc$rows <- list()
add_case(fc)
# contrasts of domain means
case_contrast("strat_contrast_api00_E_minus_H", "strat", "api00", "stype", c(E = 1, H = -1))
case_contrast("clus1_contrast_api00_E_minus_H", "clus1", "api00", "stype", c(E = 1, H = -1))

# ---------------------------------------------------------------- checks
# fpc given as fractions gives the same as population counts
for (id in grep("^clus2_", vapply(cases, function(z) z$id, ""), value = TRUE)) {
  a <- cases[[which(vapply(cases, function(z) z$id, "") == id)]]
  jb <- which(vapply(cases, function(z) z$id, "") == sub("^clus2_", "clus2frac_", id))
  if (length(jb) == 0) next
  b <- cases[[jb]]
  ga <- unlist(lapply(a$rows, function(r) as.numeric(unlist(r[c("estimate", "se")]))))
  gb <- unlist(lapply(b$rows, function(r) as.numeric(unlist(r[c("estimate", "se")]))))
  stopifnot(isTRUE(all.equal(ga, gb, tolerance = 1e-12)))
}
# published sanity value
st <- cases[[which(vapply(cases, function(z) z$id, "") == "strat_total_enroll")]]$rows[[1]]
stopifnot(abs(as.numeric(st$estimate) - 3687178) < 1, abs(as.numeric(st$se) - 114642) < 1)

vcov_check <- function(id, dname) {
  call <- sprintf("vcov(svyby(~api00, ~stype, %s, svymean, covmat = TRUE))", dname)
  v <- run(call)
  list(id = id, r_call = call, rownames = rownames(v), colnames = colnames(v),
       matrix = lapply(seq_len(nrow(v)), function(i) lapply(unname(v[i, ]), num)))
}
vcov_checks <- list(
  vcov_check("clus1_mean_api00_by_stype_vcov", "dclus1"),
  vcov_check("strat_mean_api00_by_stype_vcov", "dstrat")
)

out <- list(
  r_version = R.version.string,
  survey_version = as.character(packageVersion("survey")),
  generated_by = "Rscript tests/reference/make_reference.R",
  options = list(survey.lonely.psu = "fail unless the case says otherwise",
                 survey.adjust.domain.lonely = getOption("survey.adjust.domain.lonely", FALSE)),
  cases = cases,
  vcov_checks = vcov_checks
)
json <- toJSON(out, auto_unbox = TRUE, null = "null", na = "null", json_verbatim = TRUE,
               pretty = TRUE)
writeLines(json, file.path(out_dir, "r_reference.json"))
cat(sprintf("wrote %d cases to %s\n", length(cases), file.path(out_dir, "r_reference.json")))
