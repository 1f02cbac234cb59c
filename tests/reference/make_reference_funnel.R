# Reference values for es_survey's sector funnel (src/es_survey/funnel.py).
# Each funnel stage is t_s = T_e * T_yd / T_d: the eligible count times the share of the
# stage among eligible units whose stage is decided (Kleene "and" for employing = active
# and employing). R's svycontrast() linearises the same non-linear function of totals.
# Run from the repository root: Rscript tests/reference/make_reference_funnel.R
suppressPackageStartupMessages({library(survey); library(jsonlite)})
df <- read.csv("tests/reference/funnel_small.csv", na.strings = "")
kleene_and <- function(a, b) ifelse(!is.na(a) & a == 0, 0, ifelse(!is.na(b) & b == 0, 0, a * b))
df$emp_stage <- kleene_and(df$active, df$employing)
for (s in c("active", "emp_stage")) {
  decided <- df$eligible == 1 & !is.na(df[[s]])
  df[[paste0("d_", s)]] <- as.numeric(decided)
  df[[paste0("y_", s)]] <- ifelse(decided, df[[s]], 0)
}
d <- svydesign(id = ~1, strata = ~h, fpc = ~N, data = df)
one <- function(des, domain) {
  t <- svytotal(~eligible + y_active + d_active + y_emp_stage + d_emp_stage, des)
  a <- svycontrast(t, quote(eligible * y_active / d_active))
  e <- svycontrast(t, quote(eligible * y_emp_stage / d_emp_stage))
  list(
    list(domain = domain, stage = "eligible", estimate = unname(coef(t)["eligible"]),
         se = unname(SE(t)["eligible"]), df = degf(des)),
    list(domain = domain, stage = "active", estimate = unname(coef(a)), se = unname(SE(a)),
         df = degf(des)),
    list(domain = domain, stage = "employing", estimate = unname(coef(e)),
         se = unname(SE(e)), df = degf(des)))
}
rows <- c(one(d, ""), one(subset(d, g == "x"), "x"), one(subset(d, g == "y"), "y"))

# With the register's counts N_d (the frame: 60 units overall, 35 in g = "x" and 25 in
# g = "y", written beside the data as register_small.csv), every stage is the ratio
# estimator N_d * t / T_one within the domain: svycontrast of the same totals plus
# `one`, times N_d. The registered row is N_d itself (SE 0).
df$one <- 1
d <- svydesign(id = ~1, strata = ~h, fpc = ~N, data = df)
register <- c(all = 60, x = 35, y = 25)
write.csv(data.frame(g = c(rep("x", 35), rep("y", 25))), "tests/reference/register_small.csv",
          row.names = FALSE)
scaled <- function(des, domain, n_reg) {
  t <- svytotal(~one + eligible + y_active + d_active + y_emp_stage + d_emp_stage, des)
  el <- svycontrast(t, substitute(N * eligible / one, list(N = n_reg)))
  a <- svycontrast(t, substitute(N * eligible * y_active / d_active / one, list(N = n_reg)))
  e <- svycontrast(t, substitute(N * eligible * y_emp_stage / d_emp_stage / one,
                                 list(N = n_reg)))
  list(
    list(domain = domain, stage = "eligible", estimate = unname(coef(el)),
         se = unname(SE(el)), df = degf(des)),
    list(domain = domain, stage = "active", estimate = unname(coef(a)), se = unname(SE(a)),
         df = degf(des)),
    list(domain = domain, stage = "employing", estimate = unname(coef(e)),
         se = unname(SE(e)), df = degf(des)))
}
register_rows <- c(scaled(d, "", register[["all"]]),
                   scaled(subset(d, g == "x"), "x", register[["x"]]),
                   scaled(subset(d, g == "y"), "y", register[["y"]]))
out <- list(r_version = R.version.string, survey_version = as.character(packageVersion("survey")),
            design = "svydesign(id=~1, strata=~h, fpc=~N, data=funnel_small.csv)",
            rows = rows, register = as.list(register), register_rows = register_rows)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "tests/reference/r_funnel.json")
cat("wrote tests/reference/r_funnel.json\n")
