package io.phigate.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.clients.ClientTools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The console in a real browser (Debian's headless Chromium through Selenium) against a gateway with a recorded
 * session and a statement held for approval: sign in locally, approve the held statement and see the agent's
 * statement complete, replay the session and find the masked value marked, search by identity, export CSV, verify
 * the evidence, end a session. Each page is saved as a screenshot under target/console-screenshots.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleBrowserTest {
    static final Path SHOTS = Path.of("target/console-screenshots");

    @TempDir
    static Path dir;
    static ConsoleFixture fx;
    static WebDriver browser;
    static Path downloads;
    static Connection recorded;
    static CompletableFuture<Integer> held;

    @BeforeAll
    static void start() throws Exception {
        Path chromium = ClientTools.find("chromium");
        Path driver = ClientTools.find("chromedriver");
        fx = ConsoleFixture.start(dir);
        // The recorded session: a read of a masked column, kept open so that it can be ended from the console.
        recorded = fx.agent();
        try (Statement s = recorded.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, name, ssn FROM console_patients ORDER BY id")) {
            while (rs.next()) {
                assertThat(rs.getString("ssn")).isNotEqualTo(ConsoleFixture.SSN);
            }
        }
        // Only referenced, never delivered: the overview must not count these as PHI read unmasked.
        try (Statement s = recorded.createStatement()) {
            // A predicate over masked PHI is refused (it could reveal the value row by row): referenced, not read.
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> s.executeQuery(
                    "SELECT count(*) FROM console_patients WHERE ssn = '000-00-0000'")).hasMessageContaining("steer");
            s.execute("PREPARE by_ssn AS SELECT ssn FROM console_patients");
        }
        // A statement the gateway refuses, whose reason the audit search shows.
        try (Statement s = recorded.createStatement()) {
            s.execute("CREATE TEMP TABLE console_copy AS SELECT ssn FROM console_patients");
            throw new AssertionError("a copy of PHI into an untagged table ran");
        } catch (SQLException e) {
            assertThat(e.getSQLState()).isEqualTo("42501");
        }
        downloads = Files.createDirectories(dir.resolve("downloads"));
        Files.createDirectories(SHOTS);
        ChromeOptions options = new ChromeOptions();
        options.setBinary(chromium.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                "--disable-quic", "--window-size=1366,900", "--user-data-dir=" + dir.resolve("chromium-profile"));
        Map<String, Object> prefs = new HashMap<>();
        prefs.put("download.default_directory", downloads.toAbsolutePath().toString());
        prefs.put("download.prompt_for_download", false);
        options.setExperimentalOption("prefs", prefs);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(driver.toFile())
                .usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
        browser.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() throws Exception {
        if (browser != null) {
            browser.quit();
        }
        if (recorded != null) {
            try {
                recorded.close();
            } catch (SQLException e) {
                // already ended by the kill step
            }
        }
        if (fx != null) {
            fx.close();
        }
    }

    @Test
    @Order(1)
    void signsInLocallyWithAMintedToken() throws Exception {
        browser.get(fx.base() + "/console/approvals");
        assertThat(browser.getCurrentUrl()).contains("/console/sign-in");
        assertThat(browser.findElements(By.tagName("nav"))).isEmpty();
        shot("01-sign-in");
        // The first Tab reaches the skip link.
        browser.findElement(By.tagName("body")).sendKeys(Keys.TAB);
        assertThat(browser.switchTo().activeElement().getAttribute("class")).isEqualTo("skip");
        WebElement token = browser.findElement(By.id("token"));
        token.sendKeys(fx.alice());
        browser.findElement(By.id("sign-in")).click();
        waitFor(() -> browser.getCurrentUrl().endsWith("/console/approvals"));
        assertThat(browser.findElement(By.cssSelector("header .who")).getText()).contains(ConsoleFixture.ALICE);
    }

    @Test
    @Order(2)
    void approvesTheHeldStatementAndTheAgentsStatementCompletes() throws Exception {
        browser.get(fx.base() + "/console/approvals");
        // Held after the page loaded: the queue must show it without a reload.
        held = CompletableFuture.supplyAsync(() -> {
            try (Connection c = fx.agent(); Statement s = c.createStatement()) {
                return s.executeUpdate("DELETE FROM console_held WHERE id = 7");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });

        // The pending table refreshes itself; the held DELETE appears without a reload.
        waitFor(() -> !browser.findElements(By.cssSelector("#pending-table tr[data-approval]")).isEmpty());
        shot("02-approvals-queue");
        assertThat(held).isNotDone();
        browser.findElement(By.linkText("Review and decide")).click();
        assertThat(browser.findElement(By.id("statement")).getText()).contains("DELETE FROM console_held WHERE id = 7");
        browser.findElement(By.id("reason")).sendKeys("cleanup ticket CHG-7");
        shot("03-approval-request");
        browser.findElement(By.id("approve")).click();
        waitFor(() -> browser.getPageSource().contains("Your decision (approve) is recorded"));
        assertThat(held.get(15, TimeUnit.SECONDS)).isEqualTo(1);
        shot("04-approved");
    }

    @Test
    @Order(3)
    void replaysTheSessionWithTheMaskedValueMarked() throws Exception {
        browser.get(fx.base() + "/console/sessions");
        waitFor(() -> !browser.findElements(By.cssSelector("#sessions-table tr[data-session]")).isEmpty());
        shot("05-live-sessions");
        String sessionId = recordedSessionId();
        browser.findElement(By.linkText(sessionId)).click();
        waitFor(() -> !browser.findElements(By.cssSelector("mark.masked")).isEmpty());
        List<WebElement> masked = browser.findElements(By.cssSelector("table.rows mark.masked"));
        assertThat(masked).hasSize(4); // name and ssn of two patients
        assertThat(browser.getPageSource()).doesNotContain(ConsoleFixture.SSN).doesNotContain("Ada Lovelace");
        assertThat(masked).allSatisfy(m -> assertThat(m.getText()).contains("(masked)"));
        assertThat(browser.findElements(By.linkText("inclusion proof"))).isNotEmpty();
        // What was masked and what was referenced read as tables, not JSON, and nothing runs off the page.
        assertThat(browser.findElements(By.cssSelector("table.masking td"))).extracting(WebElement::getText)
                .contains("ssn", "redact");
        assertThat(browser.findElements(By.cssSelector("table.phi-columns"))).isNotEmpty();
        assertThat(browser.findElement(By.tagName("main")).getText()).doesNotContain("{\"").doesNotContain(")=");
        assertNoHorizontalOverflow("session replay");
        shot("06-session-replay");
    }

    @Test
    @Order(4)
    void searchesByIdentityAndExportsCsv() throws Exception {
        browser.get(fx.base() + "/console/audit");
        browser.findElement(By.id("f-subject")).sendKeys(ConsoleFixture.AGENT);
        browser.findElement(By.id("search")).click();
        waitFor(() -> !browser.findElements(By.cssSelector("#results tbody tr")).isEmpty());
        List<WebElement> rows = browser.findElements(By.cssSelector("#results tbody tr"));
        assertThat(rows).allSatisfy(r -> assertThat(r.getText()).contains(ConsoleFixture.AGENT));
        assertThat(browser.findElement(By.id("results")).getText()).contains("console_patients")
                .contains("DELETE FROM console_held");
        List<Long> records = rows.stream().map(r -> Long.parseLong(r.findElement(By.tagName("td")).getText())).toList();
        assertThat(records).as("newest first").isSortedAccordingTo(java.util.Comparator.reverseOrder());
        WebElement refused = rows.stream().filter(r -> r.getText().contains("CREATE TEMP TABLE console_copy"))
                .findFirst().orElseThrow();
        assertThat(refused.findElement(By.cssSelector(".reason")).getText()).as("the refusal's reason, not only"
                + " its SQLSTATE").isNotBlank();
        shot("07-audit-search");
        browser.findElement(By.id("export-csv")).click();
        waitFor(() -> csvDownloaded() != null);
        String csv = Files.readString(csvDownloaded());
        assertThat(csv).startsWith("seq,time,kind,session_id").contains(ConsoleFixture.AGENT)
                .contains("DELETE FROM console_held WHERE id = 7").doesNotContain(ConsoleFixture.ALICE);
    }

    @Test
    @Order(5)
    void showsTheEvidenceStatusAndVerifiesOnRequest() throws Exception {
        browser.get(fx.base() + "/console/evidence");
        assertThat(browser.findElement(By.id("verify-state")).getAttribute("data-state")).isEqualTo("never");
        waitFor(() -> {
            browser.navigate().refresh();
            return browser.findElement(By.id("replicas")).getText().contains("valid");
        });
        browser.findElement(By.id("verify-now")).click();
        waitFor(() -> "intact".equals(browser.findElement(By.id("verify-state")).getAttribute("data-state")));
        assertThat(browser.findElement(By.id("verify-state")).getText()).startsWith("Intact");
        shot("08-evidence");
    }

    @Test
    @Order(6)
    void showsTheOverview() throws Exception {
        browser.get(fx.base() + "/console");
        assertThat(Long.parseLong(browser.findElement(By.cssSelector("#statements-hour .n")).getText()))
                .isGreaterThanOrEqualTo(2);
        assertThat(browser.findElement(By.id("phi-table")).getText()).contains(ConsoleFixture.AGENT);
        assertThat(browser.findElement(By.id("phi-counted")).getText()).contains("completion record");
        WebElement agentRow = browser.findElements(By.cssSelector("#phi-table tbody tr")).stream()
                .filter(r -> r.getText().contains(ConsoleFixture.AGENT)).findFirst().orElseThrow();
        List<WebElement> cells = agentRow.findElements(By.tagName("td"));
        assertThat(cells.get(1).getText()).as("masked values: name and ssn of two patients").isEqualTo("4");
        assertThat(cells.get(2).getText()).as("nothing delivered unmasked; a filter and a PREPARE deliver nothing")
                .isEqualTo("0");
        assertThat(browser.findElement(By.id("spm")).getAttribute("role")).isEqualTo("img");
        shot("09-overview");
        browser.findElement(By.linkText("Configuration")).click();
        String config = browser.findElement(By.tagName("main")).getText();
        assertThat(config).contains("held-deletes").contains("PHI columns tagged").doesNotContain("password_file:")
                .as("the config's own spelling").contains("mode: hold").contains("timeout: 10m")
                .contains("{ issuer: " + io.phigate.GatewayHarness.ISSUER + ", claims: { groups: phigate-admins } }")
                .doesNotContain("Match[").doesNotContain("=null").doesNotContain("HOLD").doesNotContain("STATIC");
        for (WebElement heading : browser.findElements(By.cssSelector("main h2, main h3"))) {
            Object next = ((org.openqa.selenium.JavascriptExecutor) browser).executeScript(
                    "const n = arguments[0].nextElementSibling; return n && !/^H[1-6]$/.test(n.tagName)"
                            + " && n.textContent.trim().length > 0;", heading);
            assertThat(next).as("heading " + heading.getText() + " has something under it").isEqualTo(true);
        }
        shot("11-configuration");
    }

    @Test
    @Order(7)
    void endsASessionFromTheLiveSessionsPage() throws Exception {
        String sessionId = recordedSessionId();
        browser.get(fx.base() + "/console/sessions");
        WebElement kill = browser.findElement(By.cssSelector("tr[data-session='" + sessionId + "'] button.danger"));
        // Keyboard use: focus the button and press Enter.
        kill.sendKeys(Keys.ENTER);
        waitFor(() -> browser.getPageSource().contains("was ended"));
        shot("10-session-ended");
        try (Statement s = recorded.createStatement()) {
            s.executeQuery("SELECT 1");
            throw new AssertionError("the session outlived its kill");
        } catch (SQLException e) {
            assertThat(e.getMessage()).contains("administrator command");
        }
        assertThat(fx.gw.gateway().sessions().get(sessionId)).isNull();
    }

    @Test
    @Order(8)
    void signsOut() throws Exception {
        browser.get(fx.base() + "/console");
        browser.findElement(By.cssSelector("header .who button")).click();
        waitFor(() -> browser.getCurrentUrl().contains("/console/sign-in"));
        browser.get(fx.base() + "/console/audit");
        assertThat(browser.getCurrentUrl()).contains("/console/sign-in");
    }

    @Test
    @Order(9)
    void theAccessReportsIdentityTableDoesNotWrapNamesLetterByLetter() throws Exception {
        fx.gw.gateway().awaitAuditStored();
        Path report = dir.resolve("access.html");
        io.phigate.audit.AccessReport.writeFile(io.phigate.audit.AccessReport.build(fx.gw.auditFile(),
                java.time.Instant.now().minusSeconds(3600), java.time.Instant.now().plusSeconds(60), null, null,
                java.time.Instant.now()), report);
        browser.manage().window().setSize(new org.openqa.selenium.Dimension(900, 900));
        browser.get(report.toUri().toString());
        WebElement subject = browser.findElements(By.cssSelector("#identities tbody th.id")).stream()
                .filter(th -> th.getText().contains(ConsoleFixture.AGENT)).findFirst().orElseThrow();
        double lineHeight = Double.parseDouble(((org.openqa.selenium.JavascriptExecutor) browser).executeScript(
                "return parseFloat(getComputedStyle(arguments[0]).lineHeight) || 20;", subject).toString());
        assertThat(subject.getSize().getHeight()).as("the subject in at most two lines").isLessThan((int) (3 * lineHeight));
        browser.manage().window().setSize(new org.openqa.selenium.Dimension(1366, 900));
    }

    private static void assertNoHorizontalOverflow(String page) {
        Object overflow = ((org.openqa.selenium.JavascriptExecutor) browser).executeScript(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth;");
        assertThat(((Number) overflow).longValue()).as(page + " runs off the page").isLessThanOrEqualTo(0);
    }

    private static String recordedSessionId() {
        return fx.gw.gateway().sessions().list().stream()
                .filter(s -> s.lastStatement() != null && s.lastStatement().contains("FROM console_patients"))
                .map(s -> s.id()).findFirst().orElseThrow(() -> new AssertionError("recorded session not open: "
                        + fx.gw.gateway().sessions().list().stream().map(s -> s.id() + "=" + s.lastStatement()).toList()));
    }

    private static Path csvDownloaded() {
        try (Stream<Path> files = Files.list(downloads)) {
            return files.filter(p -> p.toString().endsWith(".csv")).findFirst().orElse(null);
        } catch (java.io.IOException e) {
            return null;
        }
    }

    /**
     * What every page owes a keyboard and screen-reader user: a language, one h1, a skip link to main, a label
     * for every visible form control, a name for every button and link, a title and description for every chart.
     */
    private static void assertAccessible(String page) {
        assertThat(browser.findElement(By.tagName("html")).getAttribute("lang")).as(page).isEqualTo("en");
        assertThat(browser.findElements(By.tagName("h1"))).as(page).hasSize(1);
        assertThat(browser.findElement(By.cssSelector("a.skip")).getAttribute("href")).as(page).endsWith("#main");
        for (WebElement control : browser.findElements(By.cssSelector("input:not([type=hidden]), select, textarea"))) {
            String id = control.getAttribute("id");
            boolean labelled = control.getAttribute("aria-label") != null
                    || (id != null && !browser.findElements(By.cssSelector("label[for='" + id + "']")).isEmpty());
            assertThat(labelled).as(page + ": control " + id + " has a label").isTrue();
        }
        for (WebElement b : browser.findElements(By.cssSelector("button, a"))) {
            String name = b.getAttribute("aria-label") != null ? b.getAttribute("aria-label")
                    : b.getAttribute("textContent");
            assertThat(name).as(page + ": every button and link has a name").isNotBlank();
        }
        for (WebElement chart : browser.findElements(By.cssSelector("svg.chart"))) {
            assertThat(chart.getAttribute("role")).isEqualTo("img");
            assertThat(chart.findElements(By.tagName("title"))).as(page + ": chart title").isNotEmpty();
        }
    }

    private static void shot(String name) throws Exception {
        assertAccessible(name);
        byte[] png = ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES);
        Files.write(SHOTS.resolve(name + ".png"), png);
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws Exception {
        try {
            new WebDriverWait(browser, Duration.ofSeconds(20), Duration.ofMillis(100))
                    .ignoring(org.openqa.selenium.StaleElementReferenceException.class)
                    .until(d -> condition.getAsBoolean());
        } catch (org.openqa.selenium.TimeoutException e) {
            Files.writeString(SHOTS.resolve("failure.html"), browser.getPageSource());
            shot("failure");
            throw e;
        }
    }
}
