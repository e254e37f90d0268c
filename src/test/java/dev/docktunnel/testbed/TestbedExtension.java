package dev.docktunnel.testbed;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives tests the one {@link Testbed} of this JVM: {@code @ExtendWith(TestbedExtension.class)},
 * then declare a {@code Testbed} parameter (constructor, {@code @BeforeAll}, {@code @BeforeEach}
 * or test method).
 *
 * <p>The testbed is started on first use and kept in the ROOT context's store, so every test
 * class shares it (dockerd costs seconds to start) and JUnit closes it once after all tests.
 * Tests share its dockerd: use distinct container names and ports, and do not run testbed tests
 * in parallel. If start-up fails, every test that asks for it fails with the same message.
 */
public final class TestbedExtension implements ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(Testbed.class);

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == Testbed.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return testbed(extensionContext);
    }

    /** The shared testbed, started on first call; for extensions or code that has a context at hand. */
    public static Testbed testbed(ExtensionContext context) {
        return context.getRoot().getStore(NAMESPACE)
                .getOrComputeIfAbsent(Resource.class, key -> new Resource(Testbed.start()), Resource.class)
                .testbed;
    }

    /**
     * Store value that JUnit closes at the end of the run: as a CloseableResource on Jupiter 5.12,
     * and as an AutoCloseable on later versions (close is idempotent either way).
     */
    private static final class Resource implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        private final Testbed testbed;

        Resource(Testbed testbed) {
            this.testbed = testbed;
        }

        @Override
        public void close() {
            testbed.close();
        }
    }
}
