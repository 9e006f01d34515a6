package io.phigate.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The catalogs that wrap another (GuardedCatalog around the loaded one, a session's View around the shared one)
 * forward each question by hand. Catalog's defaults answer "nothing known" (no checked keys, no children, no
 * partition key), which for a wrapper that forgot a method would be a wrong answer, not a refusal: every new
 * question this round (chosenBy, partitionedBy, shadowed) had to be added to both by hand. This pins that every
 * question is declared by each wrapper, so a new one cannot fall through to its default unseen.
 */
class CatalogWrappersForwardEveryQuestionTest {
    /** Questions a wrapper may leave to the default: only a session knows what its temporary tables shadow. */
    private static final Set<String> LEFT_TO_DEFAULT = Set.of("GuardedCatalog.shadowed");

    @Test
    void everyWrapperDeclaresEveryQuestion() {
        Set<String> missing = new TreeSet<>();
        for (Class<?> wrapper : new Class<?>[] {GuardedCatalog.class, SessionTables.View.class}) {
            for (Method m : Catalog.class.getMethods()) {
                if (Modifier.isStatic(m.getModifiers())) {
                    continue;
                }
                boolean declared = Arrays.stream(wrapper.getDeclaredMethods()).anyMatch(d -> d.getName()
                        .equals(m.getName()) && Arrays.equals(d.getParameterTypes(), m.getParameterTypes()));
                String name = wrapper.getSimpleName() + "." + m.getName();
                if (!declared && !LEFT_TO_DEFAULT.contains(name)) {
                    missing.add(name);
                }
            }
        }
        assertThat(missing).isEmpty();
    }
}
