//! The JUnit XML report CI systems read: a test suite per test file, a test case per case.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::report::SuiteReport;

/// The JUnit XML of `reports`: each failing case carries its first failure as the message, all
/// of them as the text, and the actual transcript as its output.
pub fn to_xml(reports: &[SuiteReport]) -> Result<String, quick_junit::SerializeError> {
    let mut report = Report::new("flowbot test");
    let mut total = Duration::ZERO;
    for suite in reports {
        let file = suite.path.display().to_string();
        let mut test_suite = TestSuite::new(file.clone());
        let mut suite_time = Duration::ZERO;
        for case in &suite.cases {
            let status = match case.failures.first() {
                None => TestCaseStatus::success(),
                Some(first) => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    let message = first.to_string();
                    status
                        .set_message(
                            message
                                .lines()
                                .next()
                                .unwrap_or_default()
                                .trim_end_matches(':'),
                        )
                        .set_description(case.explain());
                    status
                }
            };
            let mut test_case = TestCase::new(case.name.clone(), status);
            test_case
                .set_classname(file.clone())
                .set_time(case.duration)
                .set_system_out(case.transcript_text());
            suite_time += case.duration;
            test_suite.add_test_case(test_case);
        }
        test_suite.set_time(suite_time);
        total += suite_time;
        report.add_test_suite(test_suite);
    }
    report.set_time(total);
    report.to_string()
}
