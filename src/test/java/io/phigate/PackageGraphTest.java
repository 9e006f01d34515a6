package io.phigate;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.TryCatchBlock;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import com.tngtech.archunit.library.dependencies.SliceRule;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package graph stays acyclic and the protocol-neutral core stays neutral (issue 20, decision 0039): the
 * core (sql, mask, policy, identity, audit, approval, credentials, cluster, session) refers to no protocol (pg, mongo), to
 * no config (which sits above the core and builds its objects) and to no front end (console, http, cli). Read from
 * the compiled classes, so a fully qualified name in the code counts as much as an import.
 *
 * <p>ArchUnit's core is checked from plain JUnit: its JUnit 5 engine would not run under JUnit 6.
 */
class PackageGraphTest {
    static final String[] CORE = {"io.phigate.sql..", "io.phigate.mask..", "io.phigate.policy..",
            "io.phigate.identity..", "io.phigate.audit..", "io.phigate.approval..", "io.phigate.credentials..",
            "io.phigate.cluster..", "io.phigate.session.."};
    static final String[] ABOVE_THE_CORE = {"io.phigate.pg..", "io.phigate.mongo..", "io.phigate.config..",
            "io.phigate.console..", "io.phigate.http..", "io.phigate.cli.."};
    /**
     * The layers of the package graph, lowest first: a class may refer to its own layer and those below it. This is
     * common.md's order as the code has it: identity (the verified caller, no phigate imports) sits at the bottom
     * because policy matches roles against it, and cli is on top because its main starts the Gateway that the root
     * package assembles. net and demo refer to no other phigate package. A new package fails until placed here.
     */
    static final List<List<String>> LAYERS = List.of(List.of("sql", "identity", "net", "demo"), List.of("mask"),
            List.of("policy"), List.of("audit", "approval", "credentials", "cluster"), List.of("session"),
            List.of("config"), List.of("pg", "mongo"), List.of("console", "http"), List.of(""), List.of("cli"));
    static final DescribedPredicate<JavaClass> IN_CORE = resideInAnyPackage(CORE);
    static final DescribedPredicate<JavaClass> ABOVE = resideInAnyPackage(ABOVE_THE_CORE);

    /**
     * What the core still refers to above it, each with the helper who removes it. The list only shrinks: a new
     * entry needs the lead's word, and an entry whose reference is gone fails
     * {@link #everyKnownViolationStillExists} until it is deleted here.
     */
    static final List<Known> KNOWN = List.of();

    /** A class (and its nested classes) referring to a package (and its sub-packages) it should not. */
    record Known(String originClass, String targetPackage, String removedBy) {
        boolean isOrigin(JavaClass c) {
            return c.getName().equals(originClass) || c.getName().startsWith(originClass + "$");
        }

        boolean isTarget(JavaClass c) {
            return c.getPackageName().equals(targetPackage) || c.getPackageName().startsWith(targetPackage + ".");
        }

        boolean matches(Reference r) {
            return isOrigin(r.origin()) && isTarget(r.target());
        }
    }

    /** One class naming another: any dependency ArchUnit records, and the exception types a catch names. */
    record Reference(JavaClass origin, JavaClass target, String description) {
        static List<Reference> from(JavaClass c) {
            List<Reference> out = new ArrayList<>();
            c.getDirectDependenciesFromSelf().forEach(d -> out.add(
                    new Reference(d.getOriginClass(), d.getTargetClass(), d.getDescription())));
            // ArchUnit's dependencies leave out a catch clause's types (RoleJanitor catches pg's UpstreamException).
            for (JavaCodeUnit unit : c.getCodeUnits()) {
                for (TryCatchBlock block : unit.getTryCatchBlocks()) {
                    for (JavaClass caught : block.getCaughtThrowables()) {
                        out.add(new Reference(c, caught, unit.getFullName() + " catches " + caught.getName()
                                + " in " + block.getSourceCodeLocation()));
                    }
                }
            }
            return out;
        }

        boolean isKnown() {
            return KNOWN.stream().anyMatch(k -> k.matches(this));
        }
    }

    static JavaClasses classes;

    @BeforeAll
    static void importMainClasses() {
        // Only the folder (or jar) Gateway was loaded from: the main classes, not the tests, not the libraries.
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importUrl(Gateway.class.getProtectionDomain().getCodeSource().getLocation());
        // A test that imported nothing would pass whatever the code did.
        assertThat(classes.contain("io.phigate.session.SessionMasking")).isTrue();
        assertThat(classes.contain("io.phigate.pg.PgSession")).isTrue();
    }

    static ArchRule noCycleBetweenTopLevelPackages() {
        SliceRule rule = slices().matching("io.phigate.(*)..").namingSlices("$1").should().beFreeOfCycles();
        for (Known k : KNOWN) {
            rule = rule.ignoreDependency(DescribedPredicate.describe(k.originClass(), k::isOrigin),
                    DescribedPredicate.describe(k.targetPackage(), k::isTarget));
        }
        return rule;
    }

    static ArchRule coreRefersToNothingAboveIt() {
        ArchCondition<JavaClass> referToNothingAbove = new ArchCondition<>(
                "refer to nothing in " + String.join(", ", ABOVE_THE_CORE) + " not listed in KNOWN") {
            @Override
            public void check(JavaClass c, ConditionEvents events) {
                for (Reference r : Reference.from(c)) {
                    if (ABOVE.test(r.target()) && !r.isKnown()) {
                        events.add(SimpleConditionEvent.violated(c, r.description()));
                    }
                }
            }
        };
        return classes().that(IN_CORE).should(referToNothingAbove)
                .because("the core is shared by every wire protocol and built by config (decision 0039)");
    }

    @Test
    void topLevelPackagesFormNoCycle() {
        noCycleBetweenTopLevelPackages().check(classes);
    }

    @Test
    void theNeutralCoreRefersToNoProtocolConfigOrFrontEnd() {
        coreRefersToNothingAboveIt().check(classes);
    }

    /** The layer of a phigate class's top-level package ("" for the root); a package left out of LAYERS fails. */
    static int layerOf(JavaClass c) {
        String name = c.getPackageName();
        String top = name.equals("io.phigate") ? "" : name.substring("io.phigate.".length()).split("\\.")[0];
        for (int i = 0; i < LAYERS.size(); i++) {
            if (LAYERS.get(i).contains(top)) {
                return i;
            }
        }
        throw new AssertionError("package io.phigate." + top + " has no place in LAYERS: add it where it belongs");
    }

    static boolean isPhigate(JavaClass c) {
        return c.getPackageName().equals("io.phigate") || c.getPackageName().startsWith("io.phigate.");
    }

    @Test
    void everyPackageRefersOnlyToItsOwnLayerOrBelow() {
        List<String> breaches = new ArrayList<>();
        for (JavaClass c : classes) {
            if (!isPhigate(c)) {
                continue;
            }
            for (Reference r : Reference.from(c)) {
                if (isPhigate(r.target()) && layerOf(r.target()) > layerOf(c) && !r.isKnown()) {
                    breaches.add(r.description());
                }
            }
        }
        assertThat(breaches).as("references to a higher layer (LAYERS)").isEmpty();
    }

    @Test
    void everyKnownViolationStillExists() {
        for (Known k : KNOWN) {
            boolean present = classes.stream().filter(k::isOrigin)
                    .anyMatch(c -> Reference.from(c).stream().anyMatch(k::matches));
            assertThat(present).as("%s no longer refers to %s: delete its entry from KNOWN", k.originClass(),
                    k.targetPackage()).isTrue();
        }
    }
}
